using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Tailor.Compaction.Hosting;

// One compaction worker in a Generic Host. Configuration comes from appsettings.json, environment
// variables (Tailor__Compaction__BootstrapServers=broker:9092, Tailor__Compaction__Store=file:///data)
// and the command line (--Tailor:Compaction:GroupId=tailor-compaction); Ctrl-C or SIGTERM stops it
// gracefully: the running job may finish, its offset is committed, the group is left.
var builder = Host.CreateApplicationBuilder(args);
builder.Services.AddTailorCompactionWorker(builder.Configuration.GetSection("Tailor:Compaction"));

// Longer than the worker's StopTimeout (20 s by default), so a stop can finish and commit the running job.
builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(45));
await builder.Build().RunAsync();
