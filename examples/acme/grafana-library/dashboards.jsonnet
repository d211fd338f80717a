// ACME's dashboard library: rows every matching service's dashboard gets,
// after obsgen's own (see docs/dashboards.md, "Platform library").
local obsgen = import 'obsgen.libsonnet';
{
  rows: [
    {
      title: 'Go scheduler',
      languages: ['go'],
      panels: [
        obsgen.dashboards.panel(
          'OS threads',
          'sum by (instance) (go_threads{job="{{service}}",env="$env",instance=~"$instance"})',
          unit='short',
          description='OS threads created by the Go runtime of {{service}} (`go_threads`).',
          legend='{{instance}}',
        ),
      ],
    },
    {
      title: 'Scrape health',
      panels: [
        obsgen.dashboards.panel(
          'Scrape duration',
          'max by (instance) (scrape_duration_seconds{job="{{service}}",env="$env"})',
          unit='s',
          description='How long Prometheus takes to scrape each target of {{service}}.',
          legend='{{instance}}',
        ),
      ],
    },
  ],
}
