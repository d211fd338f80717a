{ apiVersion: 'obsgen.dev/v1', kind: 'Service', metadata: { name: 'd', team: 'payments', description: importbin '/dev/zero' }, spec: {} }
