using Seckill.Gateway;

var builder = WebApplication.CreateBuilder(args);
if (args is ["token", ..])
{
    Environment.ExitCode = TokenCommand.Run(builder.Configuration, args, Console.Out, Console.Error);
    return;
}

builder.Services.AddOptions<GatewayOptions>()
    .Bind(builder.Configuration.GetSection(GatewayOptions.Section))
    .ValidateDataAnnotations()
    .ValidateOnStart();

var app = builder.Build();
app.MapGet("/health/live", () => Results.Text("Healthy"));
await app.RunAsync();

/// <summary>Entry point, visible to the integration tests.</summary>
public partial class Program;
