using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Tailor.Compaction.Hosting;

namespace Tailor.Compaction.Tests.Distribution;

public sealed class HostingTests
{
    [Fact]
    public void AddTailorCompactionWorker_binds_every_option_from_a_configuration_section()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Tailor:Compaction:Store"] = "file:///data/tailor",
            ["Tailor:Compaction:BootstrapServers"] = "broker1:9092,broker2:9092",
            ["Tailor:Compaction:Topic"] = "jobs",
            ["Tailor:Compaction:GroupId"] = "compactors",
            ["Tailor:Compaction:SessionTimeout"] = "00:00:30",
            ["Tailor:Compaction:MaxAttempts"] = "5",
            ["Tailor:Compaction:StopTimeout"] = "00:01:00",
            ["Tailor:Compaction:Settings:security.protocol"] = "SASL_SSL",
            ["Tailor:Compaction:Compaction:MemoryBudgetBytes"] = "536870912",
            ["Tailor:Compaction:Compaction:Parallelism"] = "3",
            ["Tailor:Compaction:Compaction:WorkDirectory"] = "/mnt/nvme/tailor",
        }).Build();
        using var provider = new ServiceCollection().AddLogging().AddTailorCompactionWorker(configuration.GetSection("Tailor:Compaction")).BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<CompactionWorkerOptions>>().Value;
        Assert.Equal("file:///data/tailor", options.Store);
        Assert.Equal("broker1:9092,broker2:9092", options.BootstrapServers);
        Assert.Equal("jobs", options.Topic);
        Assert.Equal("compactors", options.GroupId);
        Assert.Equal(TimeSpan.FromSeconds(30), options.SessionTimeout);
        Assert.Equal(5, options.MaxAttempts);
        Assert.Equal(TimeSpan.FromMinutes(1), options.StopTimeout);
        Assert.Equal("SASL_SSL", options.Settings["security.protocol"]);
        Assert.Equal(512L << 20, options.Compaction.MemoryBudgetBytes);
        Assert.Equal(3, options.Compaction.Parallelism);
        Assert.Equal("/mnt/nvme/tailor", options.Compaction.WorkDirectory);
        options.Validate();

        var hosted = Assert.Single(provider.GetServices<IHostedService>());
        Assert.Same(provider.GetRequiredService<CompactionWorkerService>(), hosted);
        Assert.Null(((CompactionWorkerService)hosted).Status);
    }

    [Fact]
    public void A_key_that_names_no_option_is_refused()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["BootstrapServers"] = "broker1:9092",
            ["GroupID2"] = "typo",
        }).Build();
        using var provider = new ServiceCollection().AddTailorCompactionWorker(configuration).BuildServiceProvider();
        var problem = Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<IOptions<CompactionWorkerOptions>>().Value);
        Assert.Contains("GroupID2", problem.Message, StringComparison.Ordinal);
    }
}
