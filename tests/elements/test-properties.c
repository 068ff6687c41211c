/* Every property of every element in the plugin, read back and written
 * with its default in the NULL state, as gst-inspect-1.0 and tools that
 * list or copy properties do. A getter or setter that takes a lock it
 * already holds hangs here (and the test times out) instead of in a user's
 * gst-inspect-1.0. */
#include "../check.h"

#include <gst/gst.h>

static gint
exercise (GstElement *e)
{
  guint n;
  GParamSpec **specs =
      g_object_class_list_properties (G_OBJECT_GET_CLASS (e), &n);
  gint checked = 0;

  for (guint i = 0; i < n; i++) {
    GParamSpec *p = specs[i];
    GValue v = G_VALUE_INIT;

    if (!(p->flags & G_PARAM_READABLE))
      continue;
    g_value_init (&v, p->value_type);
    g_object_get_property (G_OBJECT (e), p->name, &v);
    g_value_unset (&v);
    if ((p->flags & G_PARAM_WRITABLE) && !(p->flags & G_PARAM_CONSTRUCT_ONLY)
        && !G_IS_PARAM_SPEC_OBJECT (p) && !G_IS_PARAM_SPEC_BOXED (p)) {
      g_object_set_property (G_OBJECT (e), p->name,
          g_param_spec_get_default_value (p));
      g_value_init (&v, p->value_type);
      g_object_get_property (G_OBJECT (e), p->name, &v);
      g_value_unset (&v);
    }
    checked++;
  }
  g_free (specs);
  return checked;
}

int
main (int argc, char **argv)
{
  GstPlugin *plugin;
  GList *features;
  gint elements = 0;

  gst_init (&argc, &argv);
  plugin = gst_registry_find_plugin (gst_registry_get (), "segmenter");
  CHECK (plugin != NULL, "plugin \"segmenter\" not in the registry");
  features = gst_registry_get_feature_list_by_plugin (gst_registry_get (),
      "segmenter");
  for (GList *l = features; l; l = l->next) {
    GstElement *e;
    gint checked;

    if (!GST_IS_ELEMENT_FACTORY (l->data))
      continue;
    e = gst_element_factory_create (GST_ELEMENT_FACTORY (l->data), NULL);
    CHECK (e != NULL, "cannot create %s", GST_OBJECT_NAME (l->data));
    checked = exercise (e);
    printf ("%s: %d properties read and reset\n",
        gst_plugin_feature_get_name (l->data), checked);
    CHECK (checked > 1, "only %d properties", checked);
    gst_object_unref (e);
    elements++;
  }
  gst_plugin_feature_list_free (features);
  gst_object_unref (plugin);
  CHECK (elements >= 4, "only %d elements", elements);
  return 0;
}
