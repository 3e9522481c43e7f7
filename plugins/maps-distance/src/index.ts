import { definePlugin, PLUGIN_API_VERSION } from '@rwseg/core';

export default definePlugin({
  apiVersion: PLUGIN_API_VERSION,
  name: '@rwseg/plugin-maps-distance',
  description: 'placeholder: contributions land with their issue',
  losses: [],
  maps: [],
});
