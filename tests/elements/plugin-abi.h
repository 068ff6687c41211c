/* The plugin's whole ABI, for scripts/check-exports.py: the two functions
 * GST_PLUGIN_DEFINE defines with GST_PLUGIN_EXPORT. Everything else in
 * libgstsegmenter.so is built with hidden visibility. Not compiled. */
const GstPluginDesc *gst_plugin_segmenter_get_desc (void);
void gst_plugin_segmenter_register (void);
