{ apiVersion: 'obsgen.dev/v1', kind: 'Service', metadata: { name: 'a', team: 'payments', description: importstr '/proc/self/environ' }, spec: {} }
