using System.Globalization;
using Microsoft.Playwright;

namespace Tailor.Query.AspNetCore.Tests;

/// <summary>
/// The explorer page in a real browser: Debian's Chromium, headless, driven by Playwright (pointed at that
/// executable; no browser is downloaded). A query through the form draws one line per context with the
/// values the API returns; a bad input shows the server's error; a screenshot is kept under artifacts/.
/// </summary>
public sealed class ExplorerPageTests(ServedStore store) : IClassFixture<ServedStore>
{
    private const string Chromium = "/usr/bin/chromium";

    [Fact]
    public async Task A_query_through_the_form_draws_every_context_with_the_values_of_the_api_and_a_bad_input_shows_the_error()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: scripts/test.sh installs Debian's chromium package.");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        var errors = new List<string>();
        page.PageError += (_, e) => errors.Add(e);
        page.RequestFailed += (_, r) => errors.Add($"request failed: {r.Url}");
        await page.GotoAsync(store.Root.ToString());

        // The form: org, metric, a custom range over both windows, contexts picked from /api/v1/contexts (the first two, or the one there is).
        await page.FillAsync("#org", store.Series.OrgId.ToString(CultureInfo.InvariantCulture));
        await page.FillAsync("#metric", store.Series.MetricId.ToString(CultureInfo.InvariantCulture));
        await page.SelectOptionAsync("#range", "custom");
        await page.FillAsync("#from", "2026-11-26T00:00Z");
        await page.FillAsync("#to", "2026-11-26T08:00Z");
        await page.ClickAsync("#load-contexts");
        await WaitAsync(page, "document.querySelectorAll('#contexts option').length > 0", errors);
        var options = await page.EvalOnSelectorAllAsync<string[]>("#contexts option", "os => os.map(o => o.value)");
        var picked = options.Take(2).ToArray();
        await page.SelectOptionAsync("#contexts", picked);
        await page.ClickAsync("#run");
        await WaitAsync(page, "window.tailorChart !== undefined", errors);

        // The API's answer to the same question.
        var api = await ServedStore.GetAsync(new Uri(store.Root, "api/v1/query?" + store.QueryString(string.Concat(picked.Select(c => "&context=" + c)))));
        var series = api.Body.GetProperty("series").EnumerateArray().ToList();
        Assert.Equal(picked.Length, series.Count);
        Assert.Equal(series.Count, await page.EvaluateAsync<int>("window.tailorChart.series"));
        Assert.Equal(series.Count, await page.Locator(".u-legend .u-series").CountAsync() - 1); // uPlot's legend: the x axis, then one row per line
        Assert.Equal(1, await page.EvaluateAsync<int>("window.tailorChart.absent")); // 04:00Z/4h is not compacted: shaded

        foreach (var s in series)
        {
            var row = page.Locator($"#summary tr[data-context='{s.GetProperty("context_id").GetString()}'] td");
            var cells = await row.AllInnerTextsAsync();
            var values = s.GetProperty("points").EnumerateArray().Select(p => p[1].GetDouble()).ToList();
            Assert.Equal(values.Count.ToString(CultureInfo.InvariantCulture), cells[2]);
            Assert.Equal(values.Min(), double.Parse(cells[3], CultureInfo.InvariantCulture));
            Assert.Equal(values.Max(), double.Parse(cells[4], CultureInfo.InvariantCulture));
            Assert.Equal(values[^1], double.Parse(cells[5], CultureInfo.InvariantCulture));
        }

        var stats = await page.InnerTextAsync("#stats");
        Assert.Contains($"{series.Sum(s => s.GetProperty("points").GetArrayLength())} points", stats, StringComparison.Ordinal);
        Assert.Contains("2 windows (1 absent)", stats, StringComparison.Ordinal);

        // The URL holds the query: opening it again runs the same query.
        Assert.Contains("org=" + store.Series.OrgId.ToString(CultureInfo.InvariantCulture), page.Url, StringComparison.Ordinal);
        Assert.Contains("context=" + picked[0], page.Url, StringComparison.Ordinal);
        var shared = await browser.NewPageAsync();
        await shared.GotoAsync(page.Url);
        await shared.WaitForFunctionAsync("window.tailorChart !== undefined");
        Assert.Equal(picked.Length, await shared.EvaluateAsync<int>("window.tailorChart.series"));

        var screenshot = Path.Combine(Artifacts(), "explorer.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot, FullPage = true });
        Assert.True(new FileInfo(screenshot).Length > 10_000);

        // A bad input: the server's problem is shown, naming the parameter.
        await page.FillAsync("#step", "-5");
        await page.ClickAsync("#run");
        await page.WaitForSelectorAsync("#error:not([hidden])");
        var error = await page.InnerTextAsync("#error");
        Assert.Contains("400", error, StringComparison.Ordinal);
        Assert.Contains("step", error, StringComparison.Ordinal);
        Assert.Empty(errors);
    }

    /// <summary>Waits for a condition; on a timeout the message has the page's error box and script errors.</summary>
    private static async Task WaitAsync(IPage page, string condition, List<string> errors)
    {
        try
        {
            await page.WaitForFunctionAsync(condition, null, new PageWaitForFunctionOptions { Timeout = 30_000 });
        }
        catch (TimeoutException)
        {
            Assert.Fail($"'{condition}' did not hold; error box: '{await page.InnerTextAsync("#error")}'; script errors: {string.Join(" | ", errors)}; url {page.Url}");
        }
    }

    private static string Artifacts()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Tailor.sln")))
            {
                var artifacts = Path.Combine(directory.FullName, "artifacts", "screenshots");
                Directory.CreateDirectory(artifacts);
                return artifacts;
            }
        }

        throw new InvalidOperationException("No Tailor.sln above the tests.");
    }
}
