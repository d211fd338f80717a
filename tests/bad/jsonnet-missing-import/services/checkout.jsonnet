local helpers = import 'helpers.libsonnet';

helpers.service('checkout', 'payments')
