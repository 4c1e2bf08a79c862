using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Seckill.Observability;

/// <summary>Metrics, traces and health endpoints, wired the same way in the intake and the worker.</summary>
public static class Telemetry
{
    /// <summary>The tag the readiness checks carry; liveness runs none.</summary>
    public const string ReadyTag = "ready";

    // MassTransit's ActivitySource and Meter are both named "MassTransit".
    private const string MassTransitSource = "MassTransit";

    public static IServiceCollection AddSeckillTelemetry(this IServiceCollection services, IConfiguration configuration, string serviceName)
    {
        services.AddMetrics();
        services.AddSingleton<SeckillMetrics>();
        // The standard OTEL_EXPORTER_OTLP_ENDPOINT variable (or the same key in configuration) turns the
        // exporter on. Without it no tracer provider samples anything: the purchase path makes no spans
        // nobody reads (in-process ActivityListeners, as in the tests, still get them).
        var otlp = !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        var telemetry = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(serviceName))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(SeckillMetrics.MeterName, MassTransitSource)
                    .AddAspNetCoreInstrumentation()
                    .AddRuntimeInstrumentation()
                    .AddNpgsqlInstrumentation()
                    .AddPrometheusExporter()
                    // Room for the stock gauge: 20 campaigns × up to 1024 shards (the default limit is 2000 series).
                    .AddView("seckill.shard.virtual_stock", new MetricStreamConfiguration { CardinalityLimit = 21_000 });
                if (otlp)
                {
                    metrics.AddOtlpExporter();
                }
            });
        if (otlp)
        {
            telemetry.WithTracing(tracing => tracing
                .AddSource(SeckillActivities.SourceName, MassTransitSource)
                .AddAspNetCoreInstrumentation(aspnet => aspnet.Filter = context => !IsScrapeOrProbe(context.Request.Path))
                .AddNpgsql()
                .AddOtlpExporter());
        }

        services.AddHealthChecks();
        return services;
    }

    /// <summary>
    /// GET /metrics (Prometheus text), /health/live (the process answers) and /health/ready (every check
    /// tagged <see cref="ReadyTag"/>: each Redis shard, RabbitMQ, PostgreSQL); unready answers 503.
    /// </summary>
    public static IEndpointRouteBuilder MapSeckillTelemetry(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPrometheusScrapingEndpoint("/metrics");
        // Plain handlers rather than MapHealthChecks: that builds its middleware, and so the health check
        // service and MassTransit's bus, while the host is being built, before the bus's logging is set up.
        endpoints.MapGet("/health/live", Live);
        endpoints.MapGet("/health/ready", ReadyAsync);
        return endpoints;
    }

    /// <summary>The process answers: nothing else is checked, so a lost store never gets it restarted.</summary>
    public static IResult Live() => Results.Text("Healthy");

    private static async Task ReadyAsync(HttpContext context, HealthCheckService health)
    {
        var report = await health.CheckHealthAsync(check => check.Tags.Contains(ReadyTag), context.RequestAborted);
        context.Response.StatusCode = report.Status == HealthStatus.Unhealthy ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK;
        await HealthReportJson.WriteAsync(context, report);
    }

    private static bool IsScrapeOrProbe(PathString path) =>
        path.StartsWithSegments("/metrics") || path.StartsWithSegments("/health");
}
