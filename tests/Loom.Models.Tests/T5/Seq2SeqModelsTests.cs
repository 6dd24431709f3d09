// The family registry's encoder-decoder path: a saved T5 directory loads back through
// Seq2SeqModels.Load by its model_type (no family switch), and wrong directories fail naming the file.
using Loom.Models.T5;

namespace Loom.Models.Tests.T5;

public class Seq2SeqModelsTests
{
    [Fact]
    public void LoadsATrainedDirectoryByModelTypeAndNamesWhatIsWrong()
    {
        using var f = T5ReferenceTests.Load("v10");
        string dir = Path.Combine(Path.GetTempPath(), "loom-t5-reg-" + Guid.NewGuid().ToString("N"));
        try
        {
            f.Model.Save(dir);
            Assert.True(Seq2SeqModels.IsSeq2SeqDirectory(dir));
            Assert.Contains("t5", Seq2SeqModels.Supported);
            using (var m = Seq2SeqModels.Load(dir, ModelOptions.Inference))
            {
                Assert.IsType<T5Model>(m);
                Assert.Equal(f.Model.Parameters.AllValues.ToArray(), m.Parameters.AllValues.ToArray());
                Assert.Equal(f.Forward(), m.Forward(f.InputIds, f.Mask, f.Labels, f.B, f.S, f.T));
            }
            // a causal family's loader refuses it with the reason
            var causal = Assert.Throws<NotSupportedException>(() => CausalLanguageModels.Load(dir, ModelOptions.Inference));
            Assert.Contains("encoder-decoder", causal.Message);

            string config = Path.Combine(dir, "config.json");
            File.WriteAllText(config, File.ReadAllText(config).Replace("\"d_kv\": 6", "\"d_kv\": 0"));
            var bad = Assert.Throws<InvalidDataException>(() => Seq2SeqModels.Load(dir));
            Assert.Contains("d_kv is 0", bad.Message);
            Assert.Contains("config.json", bad.Message);
            File.Delete(Path.Combine(dir, "model.safetensors"));
            Assert.Contains("model.safetensors", Assert.Throws<FileNotFoundException>(() => Seq2SeqModels.Load(dir)).Message);
        }
        finally { Directory.Delete(dir, true); }
    }
}
