// Game days start worker processes, rebalance consumer groups and fill disks: on a 2-core machine they
// run one at a time so each scenario's timings are its own.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
