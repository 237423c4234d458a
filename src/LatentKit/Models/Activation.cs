namespace LatentKit;

/// <summary>An activation function between the layers of an encoder, a decoder or a classifier head.</summary>
public enum Activation
{
    /// <summary>Rectified linear unit, <c>max(0, x)</c>.</summary>
    ReLU,

    /// <summary>Leaky ReLU with a negative slope of 0.01.</summary>
    LeakyReLU,

    /// <summary>Exponential linear unit (alpha 1).</summary>
    ELU,

    /// <summary>Gaussian error linear unit.</summary>
    GELU,

    /// <summary>Sigmoid linear unit (swish), <c>x * sigmoid(x)</c>.</summary>
    SiLU,

    /// <summary>Hyperbolic tangent.</summary>
    Tanh,

    /// <summary>Logistic sigmoid.</summary>
    Sigmoid,

    /// <summary>No activation (a linear layer).</summary>
    Identity,
}

/// <summary>The activation of an autoencoder's last decoder layer, which turns it into pixels.</summary>
public enum OutputActivation
{
    /// <summary>Logistic sigmoid: pixels in (0, 1). Required by <see cref="ReconstructionLoss.BinaryCrossEntropy"/>.</summary>
    Sigmoid,

    /// <summary>No activation: the decoder output is used as is for the loss and clamped to [0, 1] when decoding images.</summary>
    Identity,
}

/// <summary>The loss an autoencoder is trained with.</summary>
public enum ReconstructionLoss
{
    /// <summary>Mean per-pixel binary cross-entropy between the input and its reconstruction (needs a sigmoid output).</summary>
    BinaryCrossEntropy,

    /// <summary>Mean per-pixel squared error between the input and its reconstruction.</summary>
    MeanSquaredError,
}

/// <summary>What a <see cref="LatentClassifier"/> puts on its last layer and trains with.</summary>
public enum ClassifierHead
{
    /// <summary>
    /// The library's default: ten logits trained with softmax cross-entropy; probabilities are the softmax of the logits.
    /// The classes compete in one distribution, which is the right model for "exactly one digit per image".
    /// </summary>
    Logits,

    /// <summary>
    /// The reference scenarios' reading of "a sigmoid on the last layer, cross-entropy loss": ten independent sigmoid
    /// outputs trained with binary cross-entropy against one-hot targets; probabilities are the sigmoid outputs
    /// normalised to sum to 1.
    /// </summary>
    SigmoidCrossEntropy,
}
