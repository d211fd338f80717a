// The library folder is on the import path, but only inside the repository.
local lib = import '../../../../../../../../etc/hostname';
{ apiVersion: 'obsgen.dev/v1', kind: 'Service', metadata: { name: 'c', team: 'payments' }, spec: {}, x: lib }
