using System.Globalization;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Seckill.Data;

namespace Seckill.UnitTests;

/// <summary>
/// README's configuration tables are the one list of settings: every property of every options class
/// (found by the <c>Section</c> constant it declares) has a row named by its full key, showing the
/// default the code gives it; no row names a setting that no longer exists; and no appsettings.json
/// repeats a default, so the code stays the one source of them.
/// </summary>
public class Documenting_every_setting
{
    private static readonly string Root = FindRoot();
    private static readonly IReadOnlyDictionary<string, string> Rows = ReadRows(Path.Combine(Root, "README.md"));
    private static readonly IReadOnlyList<Setting> Settings = FindSettings();

    [Fact]
    public void Finds_the_options_of_every_service()
    {
        var sections = Settings.Select(s => s.Section).ToHashSet();
        foreach (var expected in new[]
                 {
                     "Seckill", "Seckill:Database", "Seckill:Redis", "Seckill:Reservations", "Seckill:RabbitMq",
                     "Seckill:Intake", "Seckill:Worker", "Seckill:Sweeper", "Seckill:Gateway",
                 })
        {
            Assert.Contains(expected, sections);
        }
    }

    [Fact]
    public void Every_setting_has_a_row_in_the_readme()
    {
        var missing = Settings.Select(s => s.Key).Append($"ConnectionStrings:{DataRegistration.ConnectionStringName}")
            .Where(key => !Rows.ContainsKey(key))
            .ToList();
        Assert.True(missing.Count == 0, $"README.md's configuration tables have no row for: {string.Join(", ", missing)}");
    }

    [Fact]
    public void Every_row_shows_the_default_of_the_code()
    {
        var wrong = new List<string>();
        foreach (var setting in Settings)
        {
            if (Rows.TryGetValue(setting.Key, out var shown) && !Shows(shown, setting.Default))
            {
                wrong.Add($"{setting.Key}: README says '{shown}', the code's default is '{setting.Default}'");
            }
        }

        Assert.True(wrong.Count == 0, string.Join(Environment.NewLine, wrong));
    }

    [Fact]
    public void Every_row_names_a_setting_that_exists()
    {
        var known = Settings.Select(s => s.Key).Append($"ConnectionStrings:{DataRegistration.ConnectionStringName}").ToHashSet();
        var obsolete = Rows.Keys.Where(key => !known.Contains(key)).ToList();
        Assert.True(obsolete.Count == 0, $"README.md documents settings no code reads: {string.Join(", ", obsolete)}");
    }

    [Fact]
    public void No_appsettings_file_repeats_a_default()
    {
        var files = Directory.GetFiles(Path.Combine(Root, "services"), "appsettings*.json", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                        && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .ToList();
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            using var json = JsonDocument.Parse(File.ReadAllText(file));
            var sections = json.RootElement.EnumerateObject().Select(p => p.Name).ToList();
            Assert.True(sections.All(s => s == "Logging"),
                $"{Path.GetRelativePath(Root, file)} sets {string.Join(", ", sections.Where(s => s != "Logging"))}: " +
                "defaults belong in the options classes, settings of a machine in its environment.");
        }
    }

    private sealed record Setting(string Section, string Key, string Default);

    /// <summary>A row shows the default exactly, or followed by an explanation in parentheses: <c>0 (unlimited)</c>.</summary>
    private static bool Shows(string cell, string expected)
    {
        var text = cell.Replace("`", "", StringComparison.Ordinal).Trim();
        return text == expected || text.StartsWith(expected + " (", StringComparison.Ordinal);
    }

    private static List<Setting> FindSettings()
    {
        // Every assembly of the system beside the tests, so an options class in a new project is found too.
        var assemblies = Directory.GetFiles(AppContext.BaseDirectory, "Seckill.*.dll")
            .Select(path => Assembly.Load(AssemblyName.GetAssemblyName(path)));
        var settings = new List<Setting>();
        foreach (var type in assemblies.SelectMany(a => a.GetTypes()))
        {
            if (type.GetField("Section", BindingFlags.Public | BindingFlags.Static) is not { IsLiteral: true } field
                || field.GetRawConstantValue() is not string section)
            {
                continue;
            }

            var defaults = Activator.CreateInstance(type)!;
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                if (property.SetMethod is not { IsPublic: true })
                {
                    continue;
                }

                var shown = property.IsDefined(typeof(RequiredMemberAttribute))
                    ? "required"
                    : Render(property.GetValue(defaults), $"{section}:{property.Name}");
                settings.Add(new Setting(section, $"{section}:{property.Name}", shown));
            }
        }

        return settings;
    }

    private static string Render(object? value, string key) => value switch
    {
        bool b => b ? "true" : "false",
        int i => i.ToString(CultureInfo.InvariantCulture),
        string s => s,
        TimeSpan t => Render(t),
        null => "none",
        _ => throw new InvalidOperationException($"{key}: no README form for a default of type {value?.GetType().Name ?? "null"}; extend Render."),
    };

    /// <summary>In the largest whole unit: <c>7 days</c>, <c>2 h</c>, <c>5 min</c>, <c>20 s</c>, <c>200 ms</c>.</summary>
    private static string Render(TimeSpan time) => time switch
    {
        { Ticks: var t } when t % TimeSpan.TicksPerDay == 0 => time.Days == 1 ? "1 day" : $"{time.Days} days",
        { Ticks: var t } when t % TimeSpan.TicksPerHour == 0 => $"{(long)time.TotalHours} h",
        { Ticks: var t } when t % TimeSpan.TicksPerMinute == 0 => $"{(long)time.TotalMinutes} min",
        { Ticks: var t } when t % TimeSpan.TicksPerSecond == 0 => $"{(long)time.TotalSeconds} s",
        _ => $"{time.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)} ms",
    };

    /// <summary>The first cell of every table row that is a setting's key in backticks, with its second cell.</summary>
    private static Dictionary<string, string> ReadRows(string readme)
    {
        var rows = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(readme))
        {
            var cells = line.Split('|');
            if (!line.StartsWith("| `", StringComparison.Ordinal) || cells.Length < 4)
            {
                continue;
            }

            var key = cells[1].Trim().Trim('`');
            if (key.StartsWith("Seckill:", StringComparison.Ordinal) || key.StartsWith("ConnectionStrings:", StringComparison.Ordinal))
            {
                Assert.True(rows.TryAdd(key, cells[2].Trim()), $"README.md has two rows for {key}.");
            }
        }

        return rows;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Seckill.Pipeline.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No Seckill.Pipeline.sln above {AppContext.BaseDirectory}.");
    }
}
