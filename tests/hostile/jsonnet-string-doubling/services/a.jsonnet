// Doubles a string 40 times (a terabyte): must end in an error, not an abort.
local double(s, n) = if n == 0 then s else double(s + s, n - 1);
{ apiVersion: 'obsgen.dev/v1', kind: 'Service', metadata: { name: 'a', team: 'payments', description: double('x', 40) }, spec: {} }
