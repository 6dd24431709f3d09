namespace Loom.Serving.Tests.Browser;

/// <summary>Browser tests run one at a time: each starts a Chromium (several processes) on a 2-core machine.</summary>
[CollectionDefinition(nameof(BrowserCollection), DisableParallelization = true)]
public sealed class BrowserCollection;
