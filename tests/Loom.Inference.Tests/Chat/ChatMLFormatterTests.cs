using Loom.Inference.Chat;

namespace Loom.Inference.Tests.Chat;

public class ChatMLFormatterTests
{
    [Fact]
    public void RendersChatMLAsHuggingFacesDefaultTemplateDoes()
    {
        // The string transformers' ChatML template ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' +
        // message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}") gives.
        var turns = new[] { new ChatTurn("system", "Be brief."), new ChatTurn("user", "Hi!") };
        Assert.Equal("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\n", ChatMLFormatter.Instance.Format(turns));
        Assert.Equal("<|im_start|>user\nHi!<|im_end|>\n", ChatMLFormatter.Instance.Format([turns[1]], addGenerationPrompt: false));
        Assert.Equal(["<|im_end|>"], ChatMLFormatter.Instance.StopSequences);
    }
}
