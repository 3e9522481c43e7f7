/**
 * Run as a child process by defaultProviders(): asks Dawn for a WebGPU adapter and prints what it found as one
 * JSON line. A separate process keeps Dawn's instance (and its threads) out of the server.
 */
import { isSoftwareAdapter } from '@rwseg/core';

interface Adapter {
  info?: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean };
  isFallbackAdapter?: boolean;
}

try {
  const dawn = (await import('webgpu')) as unknown as {
    create(options: string[]): { requestAdapter(o: object): Promise<Adapter | null> };
  };
  const adapter = await dawn.create([]).requestAdapter({ powerPreference: 'high-performance' });
  const info = adapter?.info ?? {};
  const description = [info.vendor, info.architecture, info.description].filter(Boolean).join(' / ');
  console.log(
    JSON.stringify({
      found: adapter !== null,
      software: adapter ? isSoftwareAdapter(info, adapter.isFallbackAdapter) : false,
      description,
    }),
  );
} catch (error) {
  console.log(
    JSON.stringify({ found: false, software: false, description: '', error: (error as Error).message.split('\n')[0] }),
  );
}
process.exit(0);
