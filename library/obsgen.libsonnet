// Helpers for writing obsgen manifests in Jsonnet.
//
//   local obsgen = import 'obsgen.libsonnet';
//   obsgen.service('search', 'web') + {
//     spec+: { slos: [obsgen.slo.availability(99.9)] },
//   }
{
  apiVersion:: 'obsgen.dev/v1',

  // A Service manifest with only the required fields.
  service(name, team, description=null):: {
    apiVersion: 'obsgen.dev/v1',
    kind: 'Service',
    metadata: { name: name, team: team } + (if description == null then {} else { description: description }),
    spec: {},
  },

  slo:: {
    availability(objective, window='30d'):: {
      name: 'availability',
      objective: objective,
      window: window,
      indicator: { type: 'availability' },
    },
    latency(objective, threshold, window='30d'):: {
      name: 'latency',
      objective: objective,
      window: window,
      indicator: { type: 'latency', threshold: threshold },
    },
    ratio(name, objective, errors, total, window='30d'):: {
      name: name,
      objective: objective,
      window: window,
      indicator: { type: 'ratio', errors: errors, total: total },
    },
  },

  // Helpers for dashboard libraries (`dashboards.jsonnet`).
  dashboards:: {
    // A time-series panel from one PromQL query.
    panel(title, expr, unit='short', description=null, legend=null):: {
      title: title,
      expr: expr,
      unit: unit,
    } + (if description == null then {} else { description: description })
      + (if legend == null then {} else { legend: legend }),
  },
}
