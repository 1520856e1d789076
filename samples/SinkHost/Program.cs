using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Tailor.Sink.Hosting;

// One sink worker in a Generic Host. Configuration comes from appsettings.json, environment variables
// (Tailor__Sink__Kafka__BootstrapServers=broker:9092, Tailor__Sink__Kafka__Topics=a,b) and the command
// line (--Tailor:Sink:Store=file:///data); Ctrl-C or SIGTERM stops it gracefully.
var builder = Host.CreateApplicationBuilder(args);
builder.Services.AddTailorSink(builder.Configuration.GetSection("Tailor:Sink"));

// A stop completes, uploads and commits; give it longer than the engine's StopDeadline (60 s by default).
builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(90));
await builder.Build().RunAsync();
