using System.Globalization;
using System.Text.Json;

namespace Tailor.Query.AspNetCore.Tests;

/// <summary><c>tailor serve</c>'s API over real HTTP on loopback, against <c>tailor query --json</c> on the same store.</summary>
public sealed class ServeApiTests(ServedStore store) : IClassFixture<ServedStore>
{
    [Theory]
    [InlineData("")]
    [InlineData("&step=1h&agg=avg,max")]
    public async Task The_query_api_answers_with_the_body_of_tailor_query_json(string stepped)
    {
        var http = await ServedStore.GetAsync(new Uri(store.Root, "api/v1/query?" + store.QueryString(stepped)));
        Assert.Equal(200, http.Status);
        Assert.Equal("application/json", http.Type);

        var arguments = new List<string> { "query", "--store", store.Uri, "--org", store.Series.OrgId.ToString(CultureInfo.InvariantCulture),
            "--metric", store.Series.MetricId.ToString(CultureInfo.InvariantCulture), "--from", ServedStore.From.ToString(CultureInfo.InvariantCulture),
            "--to", ServedStore.To.ToString(CultureInfo.InvariantCulture), "--shards", "3", "--json" };
        if (stepped.Length > 0)
        {
            arguments.AddRange(["--step", "1h", "--agg", "avg,max"]);
        }

        using var cli = JsonDocument.Parse(await ServedStore.RunAsync([.. arguments]));
        var expected = cli.RootElement;
        var series = http.Body.GetProperty("series").EnumerateArray().ToList();
        Assert.NotEmpty(series);
        Assert.Equal(expected.GetProperty("series").GetArrayLength(), series.Count);
        foreach (var (mine, theirs) in series.Zip(expected.GetProperty("series").EnumerateArray()))
        {
            foreach (var member in theirs.EnumerateObject())
            {
                Assert.Equal(member.Value.GetRawText(), mine.GetProperty(member.Name).GetRawText());
            }

            Assert.Equal(theirs.GetProperty("context").GetUInt64().ToString(CultureInfo.InvariantCulture), mine.GetProperty("context_id").GetString());
        }

        foreach (var member in new[] { "absent_windows", "generations" })
        {
            Assert.Equal(expected.GetProperty(member).GetRawText(), http.Body.GetProperty(member).GetRawText());
        }

        Assert.Contains("2026-11-26T04:00Z/4h", http.Body.GetProperty("absent_windows").EnumerateArray().Select(w => w.GetString()));
        foreach (var stat in new[] { "windows", "parts", "series", "points" })
        {
            Assert.Equal(expected.GetProperty("stats").GetProperty(stat).GetInt64(), http.Body.GetProperty("stats").GetProperty(stat).GetInt64());
        }
    }

    [Fact]
    public async Task Contexts_list_the_contexts_the_query_returns_and_windows_the_compacted_and_absent_ones()
    {
        var query = await ServedStore.GetAsync(new Uri(store.Root, "api/v1/query?" + store.QueryString()));
        var contexts = await ServedStore.GetAsync(new Uri(store.Root, "api/v1/contexts?" + store.QueryString()));
        Assert.Equal(200, contexts.Status);
        Assert.Equal(
            query.Body.GetProperty("series").EnumerateArray().Select(s => (s.GetProperty("context_id").GetString(), (long)s.GetProperty("points").GetArrayLength())),
            contexts.Body.GetProperty("contexts").EnumerateArray().Select(c => (c.GetProperty("context").GetString(), c.GetProperty("points").GetInt64())));

        var windows = await ServedStore.GetAsync(new Uri(store.Root, string.Create(CultureInfo.InvariantCulture, $"api/v1/windows?from={ServedStore.From}&to={ServedStore.To}")));
        Assert.Equal(200, windows.Status);
        var listed = windows.Body.GetProperty("windows").EnumerateArray().ToList();
        Assert.Equal(3, listed.Count); // org-mod-0, 1 and 2 of the first window
        Assert.All(listed, w => Assert.Equal(ServedStore.From, w.GetProperty("start").GetInt64()));
        Assert.All(listed, w => Assert.True(w.GetProperty("parts").GetInt32() >= 1 && w.GetProperty("points").GetInt64() > 0));
        var generation = query.Body.GetProperty("generations")[0];
        Assert.Contains(listed, w => w.GetProperty("shard").GetString() == generation.GetProperty("shard").GetString()
            && w.GetProperty("generation").GetString() == generation.GetProperty("generation").GetString());
        Assert.Equal([ServedStore.From + 4 * 3600], windows.Body.GetProperty("absent_windows").EnumerateArray().Select(a => a.GetProperty("start").GetInt64()));

        var one = await ServedStore.GetAsync(new Uri(store.Root, string.Create(CultureInfo.InvariantCulture, $"api/v1/windows?from={ServedStore.From}&to={ServedStore.To}&shard=org-mod-1")));
        Assert.Equal("org-mod-1", Assert.Single(one.Body.GetProperty("windows").EnumerateArray()).GetProperty("shard").GetString());
    }

    [Theory]
    [InlineData("org=abc&metric=1&from=0&to=10", "org", "unsigned 32-bit integer")]
    [InlineData("org=1&metric=1&to=10", "from", "required")]
    [InlineData("org=1&metric=1&from=20&to=10", "to", "after from")]
    [InlineData("org=1&metric=1&from=0&to=10&step=-5", "step", "whole seconds, at least 1")]
    [InlineData("org=1&metric=1&from=0&to=10&agg=avg", "agg", "needs step")]
    [InlineData("org=1&metric=1&from=0&to=10&step=60&agg=median", "agg", "one or more of min, max, sum, count, avg, first, last, rate")]
    [InlineData("org=1&metric=1&from=0&to=10&context=x", "context", "unsigned 64-bit integer")]
    public async Task Bad_input_answers_400_with_a_problem_naming_the_parameter_and_the_rule(string query, string parameter, string rule)
    {
        var response = await ServedStore.GetAsync(new Uri(store.Root, "api/v1/query?" + query));
        Assert.Equal(400, response.Status);
        Assert.Equal("application/problem+json", response.Type);
        Assert.Equal(400, response.Body.GetProperty("status").GetInt32());
        Assert.Equal(parameter, response.Body.GetProperty("parameter").GetString());
        Assert.Equal(rule, response.Body.GetProperty("rule").GetString());
        Assert.Contains(parameter, response.Body.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_routes_answer_404_with_a_problem_and_no_stack_trace()
    {
        foreach (var path in new[] { "api/v1/nothing", "api/v2/query", "nothing/here", "static/missing.js" })
        {
            var response = await ServedStore.GetAsync(new Uri(store.Root, path));
            Assert.Equal(404, response.Status);
            Assert.Equal("application/problem+json", response.Type);
            Assert.Contains(path.Split('/')[0], response.Body.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", response.Text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_query_over_the_points_limit_answers_422_naming_the_limit()
    {
        var (server, root) = await store.StartServerAsync("--max-points", "10");
        await using (server)
        {
            var response = await ServedStore.GetAsync(new Uri(root, "api/v1/query?" + store.QueryString()));
            Assert.Equal(422, response.Status);
            Assert.Equal("application/problem+json", response.Type);
            Assert.Equal("max_points", response.Body.GetProperty("limit").GetString());
        }
    }

    [Fact]
    public async Task An_api_key_guards_the_api_while_health_readiness_and_metrics_stay_open()
    {
        var file = System.IO.Path.Combine(store.Path, "api-key");
        const string Key = "a-long-enough-test-key-0123456789";
        await File.WriteAllTextAsync(file, Key + "\n");
        var (server, root) = await store.StartServerAsync("--api-key-file", file);
        await using (server)
        {
            var contexts = new Uri(root, "api/v1/contexts?" + store.QueryString());
            var none = await ServedStore.GetAsync(contexts);
            Assert.Equal(401, none.Status);
            Assert.Equal("application/problem+json", none.Type);
            Assert.Equal(401, (await ServedStore.GetAsync(contexts, "a-long-enough-test-key-0123456788")).Status);
            Assert.Equal(200, (await ServedStore.GetAsync(contexts, Key)).Status);
            Assert.Equal(200, (await ServedStore.GetAsync(new Uri(root, "api/v1/query?" + store.QueryString()), Key)).Status);

            Assert.Equal(200, (await ServedStore.GetAsync(new Uri(root, "healthz"))).Status);
            var ready = await ServedStore.GetAsync(new Uri(root, "readyz"));
            Assert.Equal(200, ready.Status);
            Assert.Equal("healthy", ready.Body.GetProperty("checks").GetProperty("store").GetProperty("status").GetString());
            var metrics = await ServedStore.GetAsync(new Uri(root, "metrics"));
            Assert.Equal(200, metrics.Status);
            Assert.Contains("tailor_query_queries_total{", metrics.Text, StringComparison.Ordinal);
            Assert.Contains("tailor_query_duration_seconds_bucket{", metrics.Text, StringComparison.Ordinal);
        }
    }
}
