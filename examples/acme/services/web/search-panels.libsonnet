// Search's own dashboard panels, imported by search.jsonnet: extra panels
// can live in a Jsonnet file of their own.
local obsgen = import 'obsgen.libsonnet';

function(job) [
  obsgen.dashboards.panel(
    'Index freshness',
    'max(search_index_age_seconds{job="%s",env="$env"})' % job,
    unit='s',
    description='Age of the newest document in the search index.',
  ),
  obsgen.dashboards.panel(
    'Stale results',
    'sum(rate(search_stale_results_total{job="%s",env="$env"}[$__rate_interval])) / sum(rate(search_results_total{job="%s",env="$env"}[$__rate_interval]))' % [job, job],
    unit='percentunit',
    description='The share of results served from an out-of-date index.',
  ),
]
