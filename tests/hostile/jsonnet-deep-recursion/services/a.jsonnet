local down(n) = if n == 0 then {} else { x: down(n - 1) };
{ apiVersion: 'obsgen.dev/v1', kind: 'Service', metadata: { name: 'a', team: 'payments' }, spec: {}, deep: down(100000) }
