{
  rows: [
    {
      title: 'Queues',
      panels: [
        { title: 'Queue depth', expr: 'sum(queue_depth{job="{{service}}"})' },
        { title: 'Dequeued', expr: 'sum(rate(dequeued_total{job="{{service}}",env="$env"}[5m]))' },
      ],
    },
  ],
}
