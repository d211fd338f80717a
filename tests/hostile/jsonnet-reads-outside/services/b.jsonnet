{ apiVersion: 'obsgen.dev/v1', kind: 'Service', metadata: { name: 'b', team: 'payments', description: importstr '../../../../../../../../etc/passwd' }, spec: {} }
