// The same hostile characters through Jsonnet: quotes, backslashes,
// newlines, Go and Prometheus template braces, shell and JavaScript
// fragments, U+2028.
local hostile = 'q"\'\\ n\n {{ $labels.x }} ${HOME} `id` </script> \u2028 #';
{
  apiVersion: 'obsgen.dev/v1',
  kind: 'Service',
  metadata: {
    name: 'search',
    team: 'payments',
    description: hostile,
    // Labels reach Logstash too: no `${`, line break or second quote kind.
    labels: { owner: 'q"\\ n {{ $labels.x }} `id` </script> \u2028 #', 'x_y': '}} {{' },
  },
  spec: {
    slos: [
      { name: 'availability', objective: 99.5, description: hostile, indicator: { type: 'availability' } },
    ],
  },
}
