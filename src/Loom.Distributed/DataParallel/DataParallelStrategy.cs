namespace Loom.Distributed.DataParallel;

/// <summary>How data-parallel ranks hold the model states (Rajbhandari et al., 2020, "ZeRO", §5).</summary>
public enum DataParallelStrategy
{
    /// <summary>Everything replicated; gradients all-reduced in per-block buckets during the backward (PyTorch DDP).</summary>
    Ddp,
    /// <summary>ZeRO stage 1: AdamW moments sharded; gradients all-reduced; each rank updates its slice, then parameters are all-gathered.</summary>
    Zero1,
    /// <summary>ZeRO stage 2: stage 1 plus gradients reduce-scattered block by block, each rank keeping only its slice.</summary>
    Zero2,
    /// <summary>ZeRO stage 3 / FSDP: stage 2 plus parameters sharded, all-gathered block by block just before use (the next one prefetched) and released after.</summary>
    Zero3,
}
