using Tailor.Cli;

return await TailorCommand.RunAsync(args);
