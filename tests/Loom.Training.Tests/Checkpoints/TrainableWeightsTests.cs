// Trainable-only checkpoints: only the trainable tensors are written, with the base's directory and
// the SHA-256 of its model.safetensors (checked against System.Security.Cryptography's own hash of
// the file); loading them onto the base restores the trained model exactly; a changed base, missing
// tensors and other roles are refused by name.
using System.Security.Cryptography;
using Loom.Models;
using Loom.Models.Formats;
using Loom.Models.Gpt2;
using Loom.Training.Checkpoints;

namespace Loom.Training.Tests.Checkpoints;

public class TrainableWeightsTests
{
    private static readonly Gpt2Config Tiny = new() { VocabSize = 32, MaxPositions = 8, Embedding = 16, Layers = 2, Heads = 2 };
    private static bool Train(string n) => n.StartsWith("h.1.", StringComparison.Ordinal) || n.StartsWith("ln_f.", StringComparison.Ordinal);

    private static string Temp() => Path.Combine(Path.GetTempPath(), "loom-tw-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public void OnlyTrainableTensorsAreSavedAndLoadOntoTheBaseExactly()
    {
        string root = Temp(), baseDir = Path.Combine(root, "base"), ckpt = Path.Combine(root, "ckpt");
        try
        {
            using (var b = new Gpt2Model(Tiny)) { b.InitializeWeights(1); b.Save(baseDir); }
            float[] trained;
            using (var m = CausalLanguageModels.Load(baseDir, new ModelOptions { Trainable = Train }))
            {
                // "train": move every trainable tensor
                for (int i = 0; i < m.Parameters.Specs.Count; i++)
                    if (m.Parameters.Specs[i].IsTrainable) foreach (ref float v in m.Parameters.Value(i)) v += 0.25f;
                trained = m.Parameters.AllValues.ToArray();
                TrainableWeights.Save(ckpt, m.Parameters, baseDir);
            }
            using (var f = SafetensorsFile.Open(Path.Combine(ckpt, TrainableWeights.FileName)))
            {
                Assert.All(f.Tensors.Keys, n => Assert.True(Train(n), n));
                Assert.Equal(12 + 2, f.Tensors.Count);   // h.1.*: 12 tensors; ln_f: 2
                using var sha = File.OpenRead(Path.Combine(baseDir, "model.safetensors"));
                Assert.Equal(Convert.ToHexString(SHA256.HashData(sha)).ToLowerInvariant(), f.Metadata["base_model_sha256"]);
                Assert.Equal(Path.GetFullPath(baseDir), f.Metadata["base_model"]);
            }
            Assert.Equal(Path.GetFullPath(baseDir), TrainableWeights.BaseModelOf(ckpt));
            using var loaded = CausalLanguageModels.Load(baseDir, new ModelOptions { Trainable = Train });
            TrainableWeights.Load(ckpt, loaded.Parameters);
            Assert.Equal(trained, loaded.Parameters.AllValues.ToArray());
        }
        finally { if (Directory.Exists(root)) Directory.Delete(root, true); }
    }

    [Fact]
    public void AChangedBaseAndOtherRolesAreRefusedByName()
    {
        string root = Temp(), baseDir = Path.Combine(root, "base"), other = Path.Combine(root, "other"), ckpt = Path.Combine(root, "ckpt");
        try
        {
            using (var b = new Gpt2Model(Tiny)) { b.InitializeWeights(1); b.Save(baseDir); }
            using (var b = new Gpt2Model(Tiny)) { b.InitializeWeights(2); b.Save(other); }
            using (var m = CausalLanguageModels.Load(baseDir, new ModelOptions { Trainable = Train }))
                TrainableWeights.Save(ckpt, m.Parameters, baseDir);
            using var wrongBase = CausalLanguageModels.Load(other, new ModelOptions { Trainable = Train });
            var e = Assert.Throws<InvalidDataException>(() => TrainableWeights.Load(ckpt, wrongBase.Parameters, other));
            Assert.Contains("SHA-256", e.Message);
            Assert.Contains(Path.GetFullPath(baseDir), e.Message);
            using var moreTrainable = CausalLanguageModels.Load(baseDir, new ModelOptions { Trainable = n => Train(n) || n.StartsWith("h.0.", StringComparison.Ordinal) });
            e = Assert.Throws<InvalidDataException>(() => TrainableWeights.Load(ckpt, moreTrainable.Parameters));
            Assert.Contains("h.0.", e.Message);
            using var fewer = CausalLanguageModels.Load(baseDir, new ModelOptions { Trainable = n => n.StartsWith("ln_f.", StringComparison.Ordinal) });
            e = Assert.Throws<InvalidDataException>(() => TrainableWeights.Load(ckpt, fewer.Parameters));
            Assert.Contains("h.1.", e.Message);
            Assert.Throws<DirectoryNotFoundException>(() => TrainableWeights.Load(ckpt, fewer.Parameters, Path.Combine(root, "gone")));
        }
        finally { if (Directory.Exists(root)) Directory.Delete(root, true); }
    }
}
