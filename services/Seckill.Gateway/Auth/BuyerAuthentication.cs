using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Seckill.Gateway.Http;
using Seckill.Gateway.Tokens;

namespace Seckill.Gateway.Auth;

/// <summary>
/// Bearer tokens of buyers: RS256 only (BuyerTokens.Algorithm), signed by the key whose public half the gateway holds, with the
/// configured issuer and audience, within their lifetime, and a <c>sub</c> the intake accepts as <c>X-User-Id</c>.
/// </summary>
public static class BuyerAuthentication
{
    public const string Policy = "buyer";
    public const string SubjectClaim = JwtRegisteredClaimNames.Sub;

    public static IServiceCollection AddBuyerAuthentication(this IServiceCollection services)
    {
        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<IOptions<GatewayOptions>>((jwt, gatewayOptions) => Configure(jwt, gatewayOptions.Value));
        services.AddAuthorizationBuilder()
            .AddPolicy(Policy, policy => policy.AddAuthenticationSchemes(JwtBearerDefaults.AuthenticationScheme).RequireAuthenticatedUser());
        return services;
    }

    private static void Configure(JwtBearerOptions jwt, GatewayOptions options)
    {
        // Claims keep their JWT names: "sub" must not turn into a SOAP-era URI the transform cannot find.
        jwt.MapInboundClaims = false;
        jwt.RequireHttpsMetadata = false;
        jwt.IncludeErrorDetails = false;
        jwt.TokenValidationParameters = new TokenValidationParameters
        {
            // Pinning the algorithm is what defeats alg:none and the HS256-with-the-public-key confusion:
            // a token is only ever checked as an RS256 signature over our one public key.
            ValidAlgorithms = [BuyerTokens.Algorithm],
            IssuerSigningKey = BuyerTokens.ReadPublicKey(options.PublicKeyPath),
            ValidateIssuerSigningKey = true,
            RequireSignedTokens = true,
            ValidIssuer = options.Issuer,
            ValidateIssuer = true,
            ValidAudience = options.Audience,
            ValidateAudience = true,
            RequireExpirationTime = true,
            ValidateLifetime = true,
            ClockSkew = options.ClockSkew,
            NameClaimType = SubjectClaim,
        };
        jwt.Events = new JwtBearerEvents
        {
            OnTokenValidated = context =>
            {
                // The intake would refuse such an X-User-Id with a 400 only after the gateway let it through;
                // refusing it here keeps "who is this buyer" a question the gateway alone answers.
                if (!BuyerTokens.IsValidUserId(context.Principal?.FindFirst(SubjectClaim)?.Value))
                {
                    context.Fail(new SecurityTokenValidationException("The token's sub is not a usable buyer id."));
                }

                return Task.CompletedTask;
            },
            OnChallenge = async context =>
            {
                context.HandleResponse();
                var hasToken = context.AuthenticateFailure is not null;
                context.Response.Headers.WWWAuthenticate = hasToken ? "Bearer error=\"invalid_token\"" : "Bearer";
                await GatewayProblems.WriteAsync(context.HttpContext, StatusCodes.Status401Unauthorized, GatewayProblems.Unauthorized,
                    "Unauthorized", hasToken ? Describe(context.AuthenticateFailure!) : "This route needs Authorization: Bearer <token>.");
            },
        };
    }

    /// <summary>Why a token was refused, in words a client developer can act on, never echoing the token.</summary>
    private static string Describe(Exception failure) => failure switch
    {
        SecurityTokenExpiredException => "The token has expired.",
        SecurityTokenNotYetValidException => "The token is not valid yet.",
        SecurityTokenNoExpirationException => "The token has no expiry.",
        SecurityTokenInvalidIssuerException => "The token was issued by someone else.",
        SecurityTokenInvalidAudienceException => "The token is meant for another audience.",
        SecurityTokenInvalidAlgorithmException or SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException
            => "The token's signature is not valid.",
        SecurityTokenValidationException when failure.Message.Contains("sub", StringComparison.Ordinal) => failure.Message,
        _ => "The token is malformed or not signed.",
    };
}
