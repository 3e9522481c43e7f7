import { definePlugin, PLUGIN_API_VERSION } from '@rwseg/core';

export default definePlugin({
  apiVersion: PLUGIN_API_VERSION,
  name: '@rwseg/plugin-maps-active-contour',
  description: 'placeholder: contributions land with their issue',
  losses: [],
  maps: [],
});
