/* The segd GStreamer plugin: registers its elements, nothing else. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/gst.h>

#include "gstsegmenter.h"
#include "gstsegoverlay.h"
#ifdef SEGD_HAVE_ZMQ
#include "gstzmqmasksink.h"
#include "gstzmqmasksrc.h"
#endif

static gboolean
plugin_init (GstPlugin *plugin)
{
  gboolean ret = FALSE;

  ret |= GST_ELEMENT_REGISTER (segmenter, plugin);
  ret |= GST_ELEMENT_REGISTER (segoverlay, plugin);
#ifdef SEGD_HAVE_ZMQ
  ret |= GST_ELEMENT_REGISTER (zmqmasksink, plugin);
  ret |= GST_ELEMENT_REGISTER (zmqmasksrc, plugin);
#endif
  return ret;
}

/* The macro leaves GstPluginDesc's padding to zero-initialisation. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, segmenter,
    "Real-time video segmentation (MobileNetV3 + LR-ASPP) with masks as "
    "buffer meta",
    plugin_init, PACKAGE_VERSION, "MIT", GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
#pragma GCC diagnostic pop
