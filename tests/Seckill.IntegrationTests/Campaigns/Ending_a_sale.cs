using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Seckill.IntegrationTests.Fixtures;

namespace Seckill.IntegrationTests.Campaigns;

public class Ending_a_sale(PipelineFixture fixture)
{
    private sealed record Answer(int Intake, TimeSpan SentAt, HttpStatusCode Status, string? Code, Guid? ReservationId);

    [Fact]
    public async Task Every_intake_refuses_within_a_second_and_every_earlier_202_is_written()
    {
        const int shards = 4, stock = 100_000, buyersPerIntake = 8;
        await using var second = fixture.StartIntake();
        var intakes = new[] { fixture.Intake.CreateClient(), second.CreateClient() };
        var campaign = await fixture.CreateCampaignAsync(stock, shards);

        var clock = Stopwatch.StartNew();
        TimeSpan? endedAt = null;
        var answers = new ConcurrentBag<Answer>();
        using var stop = new CancellationTokenSource();
        var buyers = Enumerable.Range(0, intakes.Length * buyersPerIntake).Select(b => Task.Run(async () =>
        {
            var intake = b % intakes.Length;
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var sentAt = clock.Elapsed;
                var response = await intakes[intake].BuyAsync(campaign.Id, $"end-{b}-{i}");
                answers.Add(response.StatusCode == HttpStatusCode.Accepted
                    ? new Answer(intake, sentAt, response.StatusCode, null, await response.AcceptedReservationAsync())
                    : new Answer(intake, sentAt, response.StatusCode, (await response.ReadProblemAsync()).Code, null));
            }
        })).ToList();

        await Task.Delay(TimeSpan.FromSeconds(1.5));
        var end = await fixture.AdminClient().PostAsync($"/api/campaigns/{campaign.Id}/end", null);
        endedAt = clock.Elapsed;
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        await stop.CancelAsync();
        await Task.WhenAll(buyers);

        Assert.Equal(HttpStatusCode.OK, end.StatusCode);
        var ended = (await end.Content.ReadFromJsonAsync<CampaignJson>())!;
        Assert.Equal("ended", ended.Status);
        Assert.NotNull(ended.EndedAt);

        // Sent a second after the end returned: refused as ended by both intakes, nothing else.
        var late = answers.Where(a => a.SentAt > endedAt + TimeSpan.FromSeconds(1)).ToList();
        for (var intake = 0; intake < intakes.Length; intake++)
        {
            Assert.Contains(late, a => a.Intake == intake);
        }

        Assert.All(late, a => Assert.Equal((HttpStatusCode.Gone, "ended"), (a.Status, a.Code)));

        // The queue still drains: every 202, before or just after the end, is one order, nothing more.
        var accepted = answers.Where(a => a.Status == HttpStatusCode.Accepted).Select(a => a.ReservationId!.Value).ToHashSet();
        Assert.NotEmpty(accepted);
        Assert.All(answers, a => Assert.Contains(a.Status, new[] { HttpStatusCode.Accepted, HttpStatusCode.Gone }));
        await fixture.AssertDrainedAsync(campaign.Id, shards, stock);
        Assert.Equal(accepted.Order(), (await fixture.OrdersAsync(campaign.Id)).Keys.Order());

        var view = (await fixture.AdminClient().GetFromJsonAsync<CampaignJson>($"/api/campaigns/{campaign.Id}"))!;
        Assert.Equal(("ended", ended.EndedAt), (view.Status, view.EndedAt));
        Assert.Equal(accepted.Count, view.Counts.Confirmed);
    }

    [Fact]
    public async Task Ending_twice_changes_nothing_the_second_time()
    {
        var campaign = await fixture.CreateCampaignAsync(stock: 5, shards: 1);
        var admin = fixture.AdminClient();
        var first = (await (await admin.PostAsync($"/api/campaigns/{campaign.Id}/end", null)).Content.ReadFromJsonAsync<CampaignJson>())!;
        var stored = await EndedAtAsync(campaign.Id);

        var again = await admin.PostAsync($"/api/campaigns/{campaign.Id}/end", null);

        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal("already-ended", (await again.ReadProblemAsync()).Code);
        Assert.Equal(stored, await EndedAtAsync(campaign.Id));
        Assert.Equal(first.EndedAt, stored);
        var view = (await admin.GetFromJsonAsync<CampaignJson>($"/api/campaigns/{campaign.Id}"))!;
        Assert.Equal(("ended", first.EndedAt, 5L), (view.Status, view.EndedAt, view.Shards.Sum(s => s.VirtualStock)));
    }

    [Fact]
    public async Task A_sale_ended_before_it_started_answers_ended_not_started()
    {
        var campaign = await fixture.CreateCampaignAsync(stock: 5, shards: 1, startsAt: DateTimeOffset.UtcNow.AddHours(1));
        Assert.Equal(HttpStatusCode.OK, (await fixture.AdminClient().PostAsync($"/api/campaigns/{campaign.Id}/end", null)).StatusCode);

        var response = await fixture.Intake.CreateClient().BuyAsync(campaign.Id, "too-late");

        Assert.Equal(HttpStatusCode.Gone, response.StatusCode);
        Assert.Equal("ended", (await response.ReadProblemAsync()).Code);
        Assert.Equal(5, await fixture.VirtualStockAsync(campaign.Id, 0));
    }

    [Fact]
    public async Task A_sale_past_its_scheduled_end_is_already_ended()
    {
        var campaign = await fixture.CreateCampaignAsync(stock: 5, shards: 1, endsAt: DateTimeOffset.UtcNow.AddSeconds(1));
        await Task.Delay(TimeSpan.FromSeconds(1.2));

        var response = await fixture.AdminClient().PostAsync($"/api/campaigns/{campaign.Id}/end", null);

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("already-ended", (await response.ReadProblemAsync()).Code);
        Assert.Null(await EndedAtAsync(campaign.Id));
    }

    [Theory]
    [InlineData("not-a-guid", HttpStatusCode.BadRequest)]
    [InlineData("0198c0de-0000-7000-8000-000000000000", HttpStatusCode.NotFound)]
    public async Task Ending_what_is_not_a_campaign_is_a_problem(string id, HttpStatusCode expected)
    {
        var response = await fixture.AdminClient().PostAsync($"/api/campaigns/{id}/end", null);

        Assert.Equal(expected, response.StatusCode);
        await response.ReadProblemAsync();
    }

    [Fact]
    public async Task Ending_needs_the_admin_key()
    {
        var campaign = await fixture.CreateCampaignAsync(stock: 5, shards: 1);

        var response = await fixture.AnonymousClient().PostAsync($"/api/campaigns/{campaign.Id}/end", null);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Null(await EndedAtAsync(campaign.Id));
    }

    private async Task<DateTimeOffset?> EndedAtAsync(Guid campaignId)
    {
        await using var command = fixture.Database.CreateCommand("SELECT ended_at FROM campaigns WHERE id = $1");
        command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = campaignId });
        return await command.ExecuteScalarAsync() is DateTime at ? new DateTimeOffset(at, TimeSpan.Zero) : null;
    }
}
