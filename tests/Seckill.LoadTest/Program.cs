using System.Globalization;
using Seckill.LoadTest;
using Spectre.Console;

if (args is ["tokens", ..])
{
    return TokensCommand.Run(args.AsSpan(1).ToArray());
}

LoadOptions options;
try
{
    var parsed = LoadOptions.Parse(args);
    if (parsed is null)
    {
        Console.WriteLine(LoadOptions.Help);
        return 0;
    }

    options = parsed;
}
catch (UsageException e)
{
    await Console.Error.WriteLineAsync($"error: {e.Message}\nRun with --help for the options.");
    return 2;
}

try
{
    return await RunAsync(options);
}
catch (Exception e) when (e is UsageException or ServiceUnavailableException)
{
    await Console.Error.WriteLineAsync($"error: {e.Message}");
    return 2;
}

static async Task<int> RunAsync(LoadOptions options)
{
    // Ctrl+C ends the process: a cut-short sale has no drain or checks worth reporting.
    var cancellationToken = CancellationToken.None;
    var repoRoot = ServiceSettings.FindRepoRoot();
    var settings = ServiceSettings.Load(options.EnvFile, repoRoot);
    var startedAt = DateTimeOffset.Now;
    var outDir = Path.GetFullPath(options.OutDir
        ?? Path.Combine(repoRoot ?? Directory.GetCurrentDirectory(), ".local", "reports", startedAt.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)));
    var live = !options.NoLive && !Console.IsOutputRedirected;

    var tokenSettings = options.Auth == BuyerAuth.UserId ? null : TokenSettings.From(settings, options.TokenKey, options.TokenMinutes);
    if (tokenSettings is null && options.Auth == BuyerAuth.Token)
    {
        throw new UsageException("--auth token needs a signing key: --token-key, or Seckill__Gateway__SigningKeyPath in the env file (bash infra/services.sh up writes it).");
    }

    using var intake = new IntakeClient(options.Intake, settings.AdminKey, options.Concurrency);
    await intake.CheckHealthAsync(cancellationToken);
    if (tokenSettings is not null)
    {
        // Every buyer the sale, its repeats and its resale waves can name: they are the same buyers.
        (intake.Buyers, var minted) = options.TokenCache is { } cache
            ? await BuyerIdentity.MintOrReuseAsync(tokenSettings, options.Buyers, cache, cancellationToken)
            : BuyerIdentity.Mint(tokenSettings, options.Buyers);
        Console.WriteLine($"tokens: {minted}, before the sale");
    }
    await using var probe = await StoreProbe.ConnectAsync(settings, cancellationToken);

    var campaign = options.CampaignId is { } existing
        ? await intake.GetCampaignAsync(existing, cancellationToken)
        : await intake.CreateCampaignAsync($"load test {startedAt:yyyy-MM-dd HH:mm:ss}", options.Stock, options.Shards, options.PaymentWindowSeconds, cancellationToken);
    // An intake that does not name the window (0) is taken at the generator's word, which only bounds a wait.
    var paymentWindow = campaign.PaymentWindow > 0 ? campaign.PaymentWindow : options.PaymentWindowSeconds;
    var row = await probe.ReadCampaignAsync(campaign.Id, cancellationToken)
        ?? throw new ServiceUnavailableException($"Campaign {campaign.Id} is not in PostgreSQL: is the intake using the same database as the env file?");
    // An existing campaign may hold orders already: they are neither this run's 202s nor orders it failed to explain.
    var ordersBefore = await probe.OrderReservationIdsAsync(campaign.Id, cancellationToken);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"campaign {campaign.Id}  stock {row.TotalStock}  shards {row.ShardCount}  payment window {paymentWindow} s  status {campaign.Status}  ({(options.CampaignId is null ? "created" : "existing")})"));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"sale: {options.Buyers} buyers + {options.RepeatRequests} repeats, pattern {options.Pattern.ToString().ToLowerInvariant()}, concurrency {options.Concurrency} → {options.Intake} ({(intake.Buyers.Auth == BuyerAuth.Token ? "Authorization: Bearer" : "X-User-Id")})"));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"checkout: {options.PayShare:P0} of winners pay within {options.PayDelayMaxSeconds} s of their order, the rest let it expire; {(options.ResaleWaves == 0 ? "no resale wave" : $"{options.ResaleWaves} resale wave(s), each after the {paymentWindow} s window")}"));

    var progress = new SaleProgress(new SaleClock());
    var sampler = new Sampler(progress, probe, campaign.Id, row.ShardCount);
    using var stopSampling = new CancellationTokenSource();
    var sampling = sampler.RunAsync(stopSampling.Token);
    var runner = new SaleRunner(intake, campaign.Id, options, progress);
    using var checkout = new Checkout(intake, options);
    var scenario = new SaleScenario(runner, checkout, sampler, probe, progress, options, campaign.Id, row.ShardCount, paymentWindow);

    var result = await new LiveProgress(progress, sampler, checkout, live).RunAsync(() => scenario.RunAsync(cancellationToken));

    await stopSampling.CancelAsync();
    await sampling;

    var finalRow = await probe.ReadCampaignAsync(campaign.Id, cancellationToken) ?? row;
    var stores = new StoreTotals(
        finalRow.TotalStock,
        finalRow.ShardCount,
        finalRow.Sold,
        Math.Max(sampler.MaxSold, finalRow.Sold),
        await probe.CountOrdersAsync(campaign.Id, cancellationToken),
        ordersBefore.Count,
        await probe.VirtualStockAsync(campaign.Id, finalRow.ShardCount));
    var audit = await AcceptedAudit.ReadAsync(probe, campaign.Id, finalRow.ShardCount, result.AllAnswers, ordersBefore, cancellationToken);
    var orderStatuses = await probe.OrderStatusesAsync(campaign.Id, cancellationToken);
    var runSettings = new RunSettings(
        options.Intake.ToString(), options.Pattern.ToString().ToLowerInvariant(), options.Buyers, options.RepeatRequests, options.Rate,
        options.RampSeconds, options.Concurrency, options.DrainStallSeconds, options.DrainTimeoutSeconds, SaleRunner.Seed,
        options.PayShare, options.PayDelayMaxSeconds, paymentWindow, options.ResaleWaves);
    var report = LoadReport.Build(
        startedAt, runSettings, campaign.Id, stores, result, intake.Codes,
        audit, orderStatuses, checkout.Attempts, sampler.OrdersChangedAt, sampler.ProbeFailures, sampler.Samples);
    report.Print();

    Directory.CreateDirectory(outDir);
    var reportPath = Path.Combine(outDir, "report.json");
    await report.WriteJsonAsync(reportPath, cancellationToken);
    var chartPath = Chart.Write(report.TimeSeries, report.SaleSeconds, outDir);
    AnsiConsole.MarkupLine(report.Passed ? "[green]all checks PASS[/]" : report.Drained ? "[red]a check FAILED[/]" : "[red]the drain did not complete; a check FAILED[/]");
    Console.WriteLine($"report: {reportPath}");
    Console.WriteLine($"chart:  {chartPath}");
    return report.Passed ? 0 : 1;
}
