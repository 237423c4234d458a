using LatentKit.Samples.Common.Plotting;
using SkiaSharp;

namespace LatentKit.Samples.Tests.Common;

public class PlotTests
{
    private static SKColor Skia(ScottPlot.Color color) => new(color.R, color.G, color.B, color.A);

    [Fact]
    public void Loss_curves_render_at_the_asked_size_with_both_curve_colours()
    {
        var png = LossCurvePlot.RenderPng("scenario 1: dense, ReLU", [0.30, 0.20, 0.15, 0.12], [0.31, 0.22, 0.18, 0.16], width: 640, height: 400);

        using var bitmap = Png.Decode(png);
        bitmap.Width.Should().Be(640);
        bitmap.Height.Should().Be(400);
        var colors = Png.Colors(bitmap);
        colors.Should().Contain(Skia(PlotStyle.TrainingColor));
        colors.Should().Contain(Skia(PlotStyle.ValidationColor));
    }

    [Fact]
    public void A_curve_without_validation_draws_only_the_training_colour()
    {
        using var bitmap = Png.Decode(LossCurvePlot.RenderPng("no validation", [0.3, 0.2]));

        bitmap.Width.Should().Be(PlotStyle.DefaultWidth);
        bitmap.Height.Should().Be(PlotStyle.DefaultHeight);
        var colors = Png.Colors(bitmap);
        colors.Should().Contain(Skia(PlotStyle.TrainingColor));
        colors.Should().NotContain(Skia(PlotStyle.ValidationColor));
    }

    [Fact]
    public void An_empty_loss_curve_is_refused() =>
        FluentActions.Invoking(() => LossCurvePlot.RenderPng("empty", [])).Should().Throw<ArgumentException>();

    [Fact]
    public void The_scatter_plot_colours_every_digit_present_and_no_other()
    {
        // 8 digits (no 3, no 7), 20 points each on a ring per digit.
        var digits = new List<byte>();
        var points = new List<float>();
        foreach (var digit in new byte[] { 0, 1, 2, 4, 5, 6, 8, 9 })
        {
            for (var i = 0; i < 20; i++)
            {
                var angle = 2 * Math.PI * i / 20;
                digits.Add(digit);
                points.Add((float)((digit * 3) + Math.Cos(angle)));
                points.Add((float)(digit + Math.Sin(angle)));
            }
        }

        using var bitmap = Png.Decode(LatentScatterPlot.RenderPng("latent codes", points.ToArray(), digits.ToArray(), markerSize: 6, width: 700, height: 500));

        bitmap.Width.Should().Be(700);
        bitmap.Height.Should().Be(500);
        var colors = Png.Colors(bitmap);
        foreach (var digit in new[] { 0, 1, 2, 4, 5, 6, 8, 9 })
        {
            colors.Should().Contain(Skia(PlotStyle.DigitColor(digit)), $"digit {digit} is plotted");
        }

        // Digit 3's red is drawn nowhere; digit 7's grey (#7f7f7f) is not checked, as anti-aliased black text makes it.
        colors.Should().NotContain(Skia(PlotStyle.DigitColor(3)));
    }

    [Fact]
    public void Ten_digits_have_ten_different_colours() =>
        Enumerable.Range(0, 10).Select(PlotStyle.DigitColor).Distinct().Should().HaveCount(10);

    [Fact]
    public void Mismatched_points_and_digits_are_refused() =>
        FluentActions.Invoking(() => LatentScatterPlot.RenderPng("bad", new float[5], new byte[2])).Should().Throw<ArgumentException>();

    [Fact]
    public void A_digit_above_nine_is_refused() =>
        FluentActions.Invoking(() => LatentScatterPlot.RenderPng("bad", new float[2], new byte[] { 10 }))
            .Should().Throw<ArgumentException>().WithMessage("*digit 10*");
}
