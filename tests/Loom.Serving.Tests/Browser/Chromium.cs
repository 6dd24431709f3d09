// Headless Chromium through Selenium, from Debian's packages only: the browser and chromedriver paths
// are given explicitly so Selenium Manager never tries to download a driver (the build machines and CI
// are offline). --no-sandbox because CI runs as root; --disable-dev-shm-usage because containers have
// a small /dev/shm. The browser's console is read back through chromedriver's "browser" log.
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;

namespace Loom.Serving.Tests.Browser;

internal static class Chromium
{
    public const string BrowserPath = "/usr/bin/chromium", DriverPath = "/usr/bin/chromedriver";

    /// <summary>The first binary that is not installed, or null when both are.</summary>
    public static string? Missing() => !File.Exists(BrowserPath) ? BrowserPath : !File.Exists(DriverPath) ? DriverPath : null;

    public static ChromeDriver Start()
    {
        Environment.SetEnvironmentVariable("SE_OFFLINE", "true");
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(DriverPath)!, Path.GetFileName(DriverPath));
        service.HideCommandPromptWindow = true;
        service.SuppressInitialDiagnosticInformation = true;
        var options = new ChromeOptions { BinaryLocation = BrowserPath };
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1200,900");
        options.SetLoggingPreference(LogType.Browser, LogLevel.All);
        var driver = new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
        driver.Manage().Timeouts().PageLoad = TimeSpan.FromSeconds(30);
        return driver;
    }

    /// <summary>The console errors (level SEVERE: uncaught exceptions, failed loads, console.error) logged so far.</summary>
    public static List<string> ConsoleErrors(IWebDriver driver) =>
        driver.Manage().Logs.GetLog(LogType.Browser).Where(e => e.Level >= LogLevel.Severe).Select(e => e.Message).ToList();

    /// <summary>Polls <paramref name="condition"/> every 100 ms until it holds or <paramref name="timeout"/> passes.</summary>
    public static async Task WaitUntil(Func<bool> condition, TimeSpan timeout, Func<string> describe)
    {
        var end = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > end) throw new TimeoutException($"not within {timeout.TotalSeconds:F0} s: {describe()}");
            await Task.Delay(100);
        }
    }
}
