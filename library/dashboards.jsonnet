// obsgen's dashboard library: rows of panels added to service dashboards,
// after obsgen's own rows. obsgen ships it empty.
//
// To add rows for every service of a platform, copy this file into a folder
// of the platform repository (say `grafana-library/dashboards.jsonnet`) and
// set `grafana.library: grafana-library` in obsgen.yaml. The file is
// evaluated once per build; its rows are then instantiated for each
// service natively, so the library costs nothing per dashboard.
//
// Each row applies to every service, or only to services of the listed
// `languages` / `frameworks`. `{{service}}` in a panel's `expr`, `title`
// and `description` becomes the service's name. Queries are checked like
// obsgen's own panels: scoped with job="{{service}}" and env="$env", rates
// over $__rate_interval, counters only inside rates.
//
// local obsgen = import 'obsgen.libsonnet';
// {
//   rows: [
//     {
//       title: 'Go scheduler',
//       languages: ['go'],
//       panels: [
//         obsgen.dashboards.panel(
//           'Threads',
//           'sum by (instance) (go_threads{job="{{service}}",env="$env"})',
//           unit='short',
//           legend='{{instance}}',
//         ),
//       ],
//     },
//   ],
// }
{
  rows: [],
}
