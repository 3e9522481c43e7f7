/** Prometheus metrics, in a registry of the server's own so several servers in one process never collide. */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface ServerMetrics {
  registry: Registry;
  requests: Counter<'route' | 'method' | 'status'>;
  latency: Histogram<'route' | 'method'>;
  batchSize: Histogram<'model'>;
  batchRequests: Histogram<'model'>;
  queueDepth: Gauge<'model'>;
  inFlight: Gauge;
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): ServerMetrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'rwseg_' });
  const registers = [registry];
  return {
    registry,
    requests: new Counter({
      name: 'rwseg_http_requests_total',
      help: 'HTTP requests by route, method and status code',
      labelNames: ['route', 'method', 'status'],
      registers,
    }),
    latency: new Histogram({
      name: 'rwseg_http_request_duration_seconds',
      help: 'HTTP request latency by route',
      labelNames: ['route', 'method'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    batchSize: new Histogram({
      name: 'rwseg_inference_batch_rows',
      help: 'Rows (batch-axis length) per session.run',
      labelNames: ['model'],
      buckets: [1, 2, 4, 8, 16, 32, 64, 128],
      registers,
    }),
    batchRequests: new Histogram({
      name: 'rwseg_inference_batch_requests',
      help: 'Requests merged into one session.run',
      labelNames: ['model'],
      buckets: [1, 2, 4, 8, 16, 32, 64, 128],
      registers,
    }),
    queueDepth: new Gauge({
      name: 'rwseg_inference_queue_depth',
      help: 'Requests waiting for a session.run',
      labelNames: ['model'],
      registers,
    }),
    inFlight: new Gauge({ name: 'rwseg_http_requests_in_flight', help: 'HTTP requests being handled', registers }),
  };
}
