namespace Seckill.Worker;

internal static class Program
{
    public static async Task Main(string[] args) => await WorkerApp.Build(args).RunAsync();
}
