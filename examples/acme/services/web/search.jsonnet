// The search service, written in Jsonnet to share SLO helpers with the library.
local obsgen = import 'obsgen.libsonnet';

local job = 'search';

obsgen.service(job, 'web', 'Full-text search over the catalogue.') + {
  metadata+: { labels: { tier: 'standard' } },
  spec+: {
    language: 'rust',
    framework: 'http',
    metrics: { port: 9100 },
    dependencies: [{ name: 'elasticsearch' }],
    slos: [
      obsgen.slo.availability(99.9),
      obsgen.slo.latency(99, '100ms'),
      obsgen.slo.ratio(
        'fresh-index',
        99,
        'sum(rate(search_stale_results_total{job="%s"}[{{window}}])) by (env)' % job,
        'sum(rate(search_results_total{job="%s"}[{{window}}])) by (env)' % job,
      ),
    ],
    dashboards: { extra_panels: (import 'search-panels.libsonnet')(job) },
    logs: {
      format: 'grok',
      pattern: '%{TIMESTAMP_ISO8601:timestamp} %{LOGLEVEL:level} %{GREEDYDATA:message}',
    },
    loadtest: {
      scenarios: [
        { name: 'query', rate: '30/s', duration: '1m', requests: [{ method: 'GET', path: '/search?q=shoes' }] },
      ],
    },
  },
}
