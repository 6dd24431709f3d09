namespace Loom.Models;

/// <summary>
/// Told when a model's passes reach each block of its layer stack (PyTorch's module forward pre-hooks
/// and gradient hooks, reduced to what distributed training needs): DDP starts a block's gradient
/// all-reduce as soon as its backward is done, ZeRO-3 all-gathers a block's parameters just before the
/// block runs and drops them after. Called on the thread that runs the pass; must not allocate.
/// </summary>
public interface ILayerObserver
{
    /// <summary>A forward pass is about to start (the embeddings and the head are used outside any block).</summary>
    void BeforeForward();

    /// <summary>Block <paramref name="layer"/>'s forward is about to run.</summary>
    void BeforeLayerForward(int layer);

    /// <summary>Block <paramref name="layer"/>'s forward has finished.</summary>
    void AfterLayerForward(int layer);

    /// <summary>Block <paramref name="layer"/>'s backward (with its recomputation under activation checkpointing) is about to run.</summary>
    void BeforeLayerBackward(int layer);

    /// <summary>Block <paramref name="layer"/>'s backward has finished: its parameters' gradients are complete.</summary>
    void AfterLayerBackward(int layer);

    /// <summary>The backward pass has finished (the embedding gradients last).</summary>
    void AfterBackward();
}

/// <summary>A model whose passes report each block of its layer stack to an <see cref="ILayerObserver"/>.</summary>
public interface ILayerHooks
{
    /// <summary>Blocks in the stack.</summary>
    int LayerCount { get; }

    /// <summary>Indexes (into <c>Parameters.Specs</c>) of block <paramref name="layer"/>'s tensors, in block order.</summary>
    IReadOnlyList<int> LayerParameters(int layer);

    /// <summary>The observer told of each block; null (the default) for none.</summary>
    ILayerObserver? LayerObserver { get; set; }
}
