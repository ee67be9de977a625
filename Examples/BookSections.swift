/// Every section `d2l-book` runs, in the book's order: one line each.
let bookSections: [BookSection] = chapter2 + chapter3 + chapter4 + chapter5 + chapter6 + chapter7 + chapter8 + chapter9
    + chapter13

/// Chapter 2: Preliminaries.
let chapter2: [BookSection] = [
    Ndarray.section,
    DataPreprocessing.section,
    LinearAlgebra.section,
    Calculus.section,
    Autograd.section,
    Probability.section,
]

/// Chapter 3: Linear Neural Networks.
let chapter3: [BookSection] = [
    LinearRegressionScratch.section,
    LinearRegressionConcise.section,
    ImageClassificationDataset.section,
    SoftmaxRegressionScratch.section,
    SoftmaxRegressionConcise.section,
]

/// Chapter 4: Multilayer Perceptrons.
let chapter4: [BookSection] = [
    MLPScratch.section,
    MLPConcise.section,
    UnderfitOverfit.section,
    WeightDecayScratch.section,
    WeightDecayConcise.section,
    DropoutScratch.section,
    DropoutConcise.section,
    KaggleHousePrice.section,
]

/// Chapter 5: Deep Learning Computation.
let chapter5: [BookSection] = [
    LayersAndBlocks.section,
    Parameters.section,
    CustomLayers.section,
    ReadWrite.section,
]

/// Chapter 6: Convolutional Neural Networks.
let chapter6: [BookSection] = [
    ConvLayer.section,
    PaddingAndStrides.section,
    Channels.section,
    Pooling.section,
    LeNet.section,
]

/// Chapter 7: Modern Convolutional Neural Networks.
let chapter7: [BookSection] = [
    AlexNet.section,
    VGG.section,
    NiN.section,
    GoogLeNet.section,
    BatchNormalization.section,
    ResNet.section,
    DenseNet.section,
]

/// Chapter 8: Recurrent Neural Networks.
let chapter8: [BookSection] = [
    TextPreprocessing.section,
    LanguageModels.section,
    RNNScratch.section,
    RNNConcise.section,
]

/// Chapter 9: Modern Recurrent Neural Networks.
let chapter9: [BookSection] = [
    GRUScratch.section,
    GRUConcise.section,
    LSTMScratch.section,
    LSTMConcise.section,
    DeepRNN.section,
    BidirectionalRNN.section,
]

/// Chapter 13: Computer Vision (the sections the toolkit can run today).
let chapter13: [BookSection] = [
    ImageAugmentation.section,
    FineTuningSection.section,
    BoundingBoxesSection.section,
    AnchorBoxesSection.section,
    MultiscaleObjectDetection.section,
    ObjectDetectionDataset.section,
    SingleShotMultiboxDetection.section,
]
