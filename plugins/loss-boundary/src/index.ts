import { definePlugin, PLUGIN_API_VERSION } from '@rwseg/core';

export default definePlugin({
  apiVersion: PLUGIN_API_VERSION,
  name: '@rwseg/plugin-loss-boundary',
  description: 'placeholder: contributions land with their issue',
  losses: [],
  maps: [],
});
