using Loom.Monitoring.Reports;

namespace Loom.Monitoring.Watching;

/// <summary>One evaluation of a log window.</summary>
/// <param name="Start">The window's start (inclusive).</param>
/// <param name="End">The window's end (exclusive).</param>
/// <param name="Rows">Successful requests in it.</param>
/// <param name="Report">The drift report, or null when the window had fewer than MinRows rows.</param>
/// <param name="Alerted">True when an alert was raised.</param>
public sealed record WindowEvaluation(DateTimeOffset Start, DateTimeOffset End, int Rows, DriftReport? Report, bool Alerted);
