namespace Seckill.Gateway;

/// <summary>The gateway process; in its own namespace so projects that reference it keep their own <c>Program</c>.</summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args is ["token", ..])
        {
            // Handled before any host exists: minting needs neither the intakes nor the public key.
            var configuration = new ConfigurationBuilder().AddEnvironmentVariables().Build();
            return TokenCommand.Run(configuration, args, Console.Out, Console.Error);
        }

        await GatewayApp.Build(args).RunAsync();
        return 0;
    }
}
