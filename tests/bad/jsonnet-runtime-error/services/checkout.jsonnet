local obsgen = import 'obsgen.libsonnet';
local objective(n) = if n > 100 then error 'objective %d is above 100' % n else n;

obsgen.service('checkout', 'payments') + {
  spec+: { slos: [obsgen.slo.availability(objective(120))] },
}
