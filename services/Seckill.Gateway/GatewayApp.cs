using Seckill.Observability;
using Microsoft.Extensions.Options;
using Seckill.Gateway.Auth;
using Seckill.Gateway.Http;
using Seckill.Gateway.Limits;
using Seckill.Gateway.Proxy;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Health;

namespace Seckill.Gateway;

/// <summary>
/// The gateway host (patent step S2): authenticates buyers, limits them at the edge, and spreads the crowd
/// over the intakes. Built the same way by the process and by the tests, which run it in-process on a free port.
/// </summary>
public static class GatewayApp
{
    /// <summary>Where the gateway listens when neither <c>--urls</c> nor <c>ASPNETCORE_URLS</c> says: loopback, like every local server.</summary>
    public const string DefaultUrl = "http://127.0.0.1:5000";

    public static WebApplication Build(string[] args, IEnumerable<KeyValuePair<string, string?>>? settings = null)
    {
        // The content root is the program's folder, so appsettings.json is found whatever the working directory.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        if (settings is not null)
        {
            builder.Configuration.AddInMemoryCollection(settings);
        }

        // Log levels in code rather than an appsettings.json: projects that reference the gateway (the tests, the
        // load generator) get every referenced project's appsettings.json in one output folder, and the gateway's
        // would replace the intake's or the worker's. A more specific category in configuration still overrides them.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.AspNetCore.DataProtection", LogLevel.Error);
        builder.Logging.AddFilter("Yarp", LogLevel.Warning);
        // A probe of a dead intake fails every second with a stack trace; the health state change is logged once.
        builder.Logging.AddFilter("Yarp.ReverseProxy.Health.ActiveHealthCheckMonitor", LogLevel.Error);

        var urls = builder.Configuration["urls"];
        if (string.IsNullOrEmpty(urls) && string.IsNullOrEmpty(builder.Configuration["http_ports"])
            && !builder.Configuration.GetSection("Kestrel:Endpoints").Exists())
        {
            urls = DefaultUrl;
            builder.WebHost.UseUrls(urls);
        }

        var metricsUrl = builder.Configuration[$"{GatewayOptions.Section}:{nameof(GatewayOptions.MetricsUrl)}"];
        var metricsPort = Uri.TryCreate(metricsUrl, UriKind.Absolute, out var metricsUri) ? metricsUri.Port : 0;
        if (metricsPort != 0 && !string.IsNullOrEmpty(urls))
        {
            builder.WebHost.UseUrls($"{urls};{metricsUrl}");
        }

        // The intake takes at most 1 MiB (campaign bodies 16 KiB, purchases 1 KiB); refusing more here
        // keeps a flood of large bodies off the intakes and bounds what a connect retry buffers.
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = 1024 * 1024;
            kestrel.RequestHeaderEncodingSelector = AsciiHeaders.Latin1;
        });

        var services = builder.Services;
        services.AddOptions<GatewayOptions>()
            .Bind(builder.Configuration.GetSection(GatewayOptions.Section))
            .ValidateDataAnnotations()
            .Validate(o => o.Intakes.All(IsHttpUrl), "Every Seckill:Gateway:Intakes entry must be an absolute http or https URL.")
            .Validate(o => File.Exists(o.PublicKeyPath), "Seckill:Gateway:PublicKeyPath must name an existing public key file (bash infra/services.sh up writes .local/gateway-signing-key.pub.pem).")
            .ValidateOnStart();
        services.AddProblemDetails(options => options.CustomizeProblemDetails = Seckill.Http.ProblemCodes.FillIn);
        services.AddBuyerAuthentication();
        services.AddEdgeLimits();
        services.AddSingleton<IPassiveHealthCheckPolicy, ConnectFailurePolicy>();
        services.AddSingleton<IProxyConfigProvider>(sp =>
        {
            var (routes, clusters) = IntakeRoutes.Build(sp.GetRequiredService<IOptions<GatewayOptions>>().Value);
            return new InMemoryConfigProvider([.. routes], [.. clusters]);
        });
        services.AddReverseProxy().AddTransforms(BuyerIdentity.Apply);
        var tracing = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        services.AddSingleton<Yarp.ReverseProxy.Forwarder.IForwarderHttpClientFactory>(new IntakeHttpClientFactory(propagateTraces: tracing));
        services.AddSeckillTelemetry(builder.Configuration, "seckill-gateway");

        var app = builder.Build();
        app.UseExceptionHandler(new ExceptionHandlerOptions { StatusCodeSelector = Seckill.Http.ProblemCodes.StatusOf });
        app.UseStatusCodePages();
        if (metricsPort != 0)
        {
            // By the port the connection came in on, not the Host header, which the client writes.
            app.UseOpenTelemetryPrometheusScrapingEndpoint(context =>
                context.Connection.LocalPort == metricsPort && context.Request.Path == "/metrics");
        }

        app.Use(AsciiHeaders.InvokeAsync);
        app.UseRouting();
        // Authentication before the limiter (its partition is the token's sub), authorization after it
        // (a flood of requests without a token is throttled per address before each gets its 401).
        app.UseAuthentication();
        app.UseRateLimiter();
        app.UseAuthorization();
        app.Use(EdgeLimits.LimitPurchasesAsync);
        app.MapGet("/health/live", () => Results.Text("Healthy"));
        app.MapGet("/health/ready", Ready);
        app.MapReverseProxy(proxy =>
        {
            proxy.Use((context, next) => ProxyFailures.InvokeAsync(context, () => next()));
            proxy.UseSessionAffinity();
            proxy.UseLoadBalancing();
            proxy.UsePassiveHealthChecks();
        });
        app.MapFallback(context => GatewayProblems.WriteAsync(context, StatusCodes.Status404NotFound, GatewayProblems.NotFound,
            "Not found", "The gateway forwards /api, /dashboard and /openapi; it answers /health/live and /health/ready itself."));
        return app;
    }

    /// <summary>Ready while at least one intake is available (healthy, or not yet probed).</summary>
    private static IResult Ready(IProxyStateLookup state)
    {
        var available = state.TryGetCluster(IntakeRoutes.ClusterId, out var cluster) ? cluster.DestinationsState.AvailableDestinations.Count : 0;
        var total = cluster?.Destinations.Count ?? 0;
        var body = new { status = available > 0 ? "Healthy" : "Unhealthy", intakesAvailable = available, intakes = total };
        return Results.Json(body, statusCode: available > 0 ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
    }

    private static bool IsHttpUrl(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);
}
