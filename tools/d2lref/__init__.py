"""d2lref: the book's reference code (Dive into Deep Learning, PyTorch edition, d2l 0.17),
written once for every fixture generator and benchmark in tools/.

    text    read_time_machine, tokenize, count_corpus, Vocab, load_corpus_time_machine,
            seq_data_iter_sequential, SeqDataLoader (chapter 8; text needs no PyTorch)
    rnn     RNNModel, grad_clipping, predict_ch8, train_epoch_ch8, train_ch8 (chapters 8-9)
    fixture_models  the book's image models (softmax regression ... DenseNet), torchvision's
            ResNet-18, and the ONNX export wrappers of the language models
    data    Fashion-MNIST's IDX files
    images  ImageFolder, train_augs (chapter 13: RandomResizedCrop, flip, Normalize on PIL),
            seeded synthetic JPEG folders
    detection  box conversions, multibox_prior, box_iou, anchor labelling, nms and
            multibox_detection (chapters 13.3-13.4; nms sorts stably)
    bananas read_data_bananas, BananasDataset, load_data_bananas (13.6, from a folder)
    ssd     the predictors, down_sample_blk, base_net and TinySSD (13.7)

The scripts put tools/ on sys.path (`sys.path.insert(0, TOOLS)`) and import from here;
nothing here is installed.
"""
