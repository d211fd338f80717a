local obsgen = import 'obsgen.libsonnet';

obsgen.service('checkout', 'payments') + {
  spec+: {
    language: 'go'
    framework: 'grpc',
  },
}
