using LatentKit.Tests.Support;

namespace LatentKit.Tests.Data;

/// <summary><see cref="MnistDataset.LoadFromFiles"/>: any pair of IDX files, raw or gzip, fully validated.</summary>
public sealed class LoadFromFilesTests : IDisposable
{
    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void Valid_files_load_exactly_under_the_given_name_or_the_images_path(bool gzipImages, bool gzipLabels)
    {
        var (pixels, labels) = IdxTestFiles.MakeData(21, seed: 4);
        var imagesPath = IdxTestFiles.Write(temp.Path, "my-images", IdxTestFiles.Images(pixels), gzipImages);
        var labelsPath = IdxTestFiles.Write(temp.Path, "my-labels", IdxTestFiles.Labels(labels), gzipLabels);

        var named = MnistDataset.LoadFromFiles(imagesPath, labelsPath, "fashion test");
        var unnamed = MnistDataset.LoadFromFiles(imagesPath, labelsPath);

        named.Count.Should().Be(21);
        named.Pixels.ToArray().Should().Equal(pixels);
        named.Labels.ToArray().Should().Equal(labels);
        named.Name.Should().Be("fashion test");
        unnamed.Name.Should().Be(imagesPath);
        unnamed.Pixels.ToArray().Should().Equal(pixels);
    }

    [Fact]
    public void Mismatched_counts_are_a_format_error_naming_both_files_and_counts()
    {
        var (pixels, labels) = IdxTestFiles.MakeData(12);
        var imagesPath = IdxTestFiles.Write(temp.Path, "images", IdxTestFiles.Images(pixels));
        var labelsPath = IdxTestFiles.Write(temp.Path, "labels", IdxTestFiles.Labels(labels[..11]));

        var error = Assert.Throws<MnistFormatException>(() => MnistDataset.LoadFromFiles(imagesPath, labelsPath));

        error.FilePath.Should().Be(labelsPath);
        error.Message.Should().Contain("count mismatch").And.Contain("11 labels").And.Contain("12 images").And.Contain(imagesPath);
    }

    [Fact]
    public void Swapped_files_are_a_wrong_magic_error_naming_the_file()
    {
        var (pixels, labels) = IdxTestFiles.MakeData(3);
        var imagesPath = IdxTestFiles.Write(temp.Path, "images", IdxTestFiles.Images(pixels));
        var labelsPath = IdxTestFiles.Write(temp.Path, "labels", IdxTestFiles.Labels(labels));

        var error = Assert.Throws<MnistFormatException>(() => MnistDataset.LoadFromFiles(labelsPath, imagesPath));

        error.Message.Should().Contain("wrong magic number");
        new[] { imagesPath, labelsPath }.Should().Contain(error.FilePath);
    }

    [Fact]
    public void A_missing_file_or_folder_is_reported_with_its_path()
    {
        var (pixels, labels) = IdxTestFiles.MakeData(3);
        var imagesPath = IdxTestFiles.Write(temp.Path, "images", IdxTestFiles.Images(pixels));
        var labelsPath = IdxTestFiles.Write(temp.Path, "labels", IdxTestFiles.Labels(labels));
        var missingFile = temp.Combine("no-such-labels");
        var missingFolder = temp.Combine("no-such-folder", "images");

        Assert.Throws<FileNotFoundException>(() => MnistDataset.LoadFromFiles(imagesPath, missingFile)).FileName.Should().Be(missingFile);
        Assert.Throws<DirectoryNotFoundException>(() => MnistDataset.LoadFromFiles(missingFolder, labelsPath)).Message.Should().Contain(missingFolder);
        Assert.Throws<ArgumentNullException>(() => MnistDataset.LoadFromFiles(null!, labelsPath)).ParamName.Should().Be("imagesPath");
    }
}
