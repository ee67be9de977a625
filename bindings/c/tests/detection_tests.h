/*
 * detection_tests.h — the checks of the detection helpers (d2l_box_iou, d2l_multibox_prior,
 * d2l_nms, d2l_multibox_detection) for test_capi.c: the book's printed examples (13.4),
 * cases worked by hand, and every argument error (status, one-line message, nothing
 * written). The values are checked against PyTorch in the Swift and Python tests, which
 * read Tests/Fixtures/toolkit/detection (tools/fixtures/make-detection-fixtures).
 * Header-only (static functions), included once after check.h.
 */
#ifndef D2L_TESTS_DETECTION_H
#define D2L_TESTS_DETECTION_H

#include <math.h>

static int close_to(float a, float b, float tolerance) { return fabsf(a - b) <= tolerance; }

static void test_box_iou(void) {
    /* [0,0,2,2] vs [1,1,3,3]: intersection 1, union 7; vs itself 1; vs a far box 0. */
    const float a[8] = {0, 0, 2, 2, 10, 10, 11, 11};
    const float b[12] = {1, 1, 3, 3, 0, 0, 2, 2, 5, 5, 5, 5};
    float iou[6];
    check_status(d2l_box_iou(a, 2, b, 3, iou), D2L_OK, "d2l_box_iou 2 x 3");
    check(close_to(iou[0], 1.0f / 7, 1e-6f) && iou[1] == 1 && iou[2] == 0 && iou[3] == 0 && iou[4] == 0 && iou[5] == 0,
          "d2l_box_iou: 1/7, 1, 0 / 0, 0, 0 (got %g %g %g / %g %g %g)", iou[0], iou[1], iou[2], iou[3], iou[4], iou[5]);
    const float point[4] = {1, 1, 1, 1};
    float zero = -1;
    check(d2l_box_iou(point, 1, point, 1, &zero) == D2L_OK && zero == 0, "d2l_box_iou: two zero-area boxes give 0, not NaN");
    check_status(d2l_box_iou(NULL, 0, b, 3, NULL), D2L_OK, "d2l_box_iou with count1 0 and NULL pointers");

    float untouched[6] = {7, 7, 7, 7, 7, 7};
    const float nan_box[4] = {0, 0, NAN, 1};
    check_status(d2l_box_iou(nan_box, 1, b, 1, untouched), D2L_ERR_INVALID_ARGUMENT, "d2l_box_iou with a NaN coordinate");
    check(strstr(d2l_last_error(), "boxes1[2]") != NULL, "the message names boxes1[2]: %s", d2l_last_error());
    check_status(d2l_box_iou(a, 2, NULL, 3, untouched), D2L_ERR_INVALID_ARGUMENT, "d2l_box_iou with boxes2 NULL");
    check_status(d2l_box_iou(a, 2, b, 3, NULL), D2L_ERR_INVALID_ARGUMENT, "d2l_box_iou with out_iou NULL");
    check_status(d2l_box_iou(a, SIZE_MAX / 2, b, 3, untouched), D2L_ERR_INVALID_ARGUMENT, "d2l_box_iou with a count that overflows");
    check(untouched[0] == 7 && untouched[5] == 7, "nothing written on error");
}

static void test_multibox_prior(void) {
    /* The book's 561 x 728 image, sizes 0.75, 0.5, 0.25 and ratios 1, 2, 0.5: 5 anchors per
     * pixel; boxes[250, 250, 0, :] = [0.06, 0.07, 0.63, 0.82] (printed to 2 decimals). */
    const float sizes[3] = {0.75f, 0.5f, 0.25f}, ratios[3] = {1, 2, 0.5f};
    size_t h = 561, w = 728, count = h * w * 5;
    float *anchors = malloc(count * 4 * sizeof(float));
    if (!check(anchors != NULL, "allocate %zu anchors", count)) return;
    check_status(d2l_multibox_prior(h, w, sizes, 3, ratios, 3, anchors), D2L_OK, "d2l_multibox_prior 561 x 728");
    const float *row = anchors + ((250 * w + 250) * 5) * 4;
    check(close_to(row[0], 0.06f, 0.005f) && close_to(row[1], 0.07f, 0.005f) && close_to(row[2], 0.63f, 0.005f)
              && close_to(row[3], 0.82f, 0.005f),
          "the book's anchor at (250, 250, 0): %.4f %.4f %.4f %.4f", row[0], row[1], row[2], row[3]);
    /* Anchor 0 of pixel (0, 0): center (0.5/728, 0.5/561), width 0.75 * 561/728, height 0.75. */
    float cx = 0.5f / 728, cy = 0.5f / 561, hw = 0.75f * 561 / 728 / 2;
    check(close_to(anchors[0], cx - hw, 1e-6f) && close_to(anchors[1], cy - 0.375f, 1e-6f)
              && close_to(anchors[2], cx + hw, 1e-6f) && close_to(anchors[3], cy + 0.375f, 1e-6f),
          "the first anchor is centred on the first pixel");
    free(anchors);

    float out[4] = {7, 7, 7, 7};
    const float bad_ratio[1] = {0};
    check_status(d2l_multibox_prior(1, 1, sizes, 1, bad_ratio, 1, out), D2L_ERR_INVALID_ARGUMENT, "d2l_multibox_prior with ratio 0");
    check(strstr(d2l_last_error(), "ratios[0]") != NULL, "the message names ratios[0]: %s", d2l_last_error());
    check_status(d2l_multibox_prior(0, 5, sizes, 1, ratios, 1, out), D2L_ERR_INVALID_ARGUMENT, "d2l_multibox_prior with height 0");
    check_status(d2l_multibox_prior(1, 1, sizes, 0, ratios, 1, out), D2L_ERR_INVALID_ARGUMENT, "d2l_multibox_prior with no sizes");
    check_status(d2l_multibox_prior(SIZE_MAX, 2, sizes, 1, ratios, 1, out), D2L_ERR_INVALID_ARGUMENT,
                 "d2l_multibox_prior with a size that overflows");
    check_status(d2l_multibox_prior(1, 1, sizes, 1, ratios, 1, NULL), D2L_ERR_INVALID_ARGUMENT, "d2l_multibox_prior with out NULL");
    check(out[0] == 7 && out[3] == 7, "nothing written on error");
}

static void test_nms(void) {
    /* Boxes 0 and 1 overlap (IoU 0.68), box 2 is apart; scores make 1 first. Box 3 equals
     * box 2 with the same score: the lower index (2) wins the tie and suppresses 3. */
    const float boxes[16] = {0, 0, 10, 10, 1, 1, 11, 11, 20, 20, 30, 30, 20, 20, 30, 30};
    const float scores[4] = {0.8f, 0.9f, 0.5f, 0.5f};
    size_t keep[4] = {9, 9, 9, 9}, kept = 9;
    check_status(d2l_nms(boxes, scores, 4, 0.5f, keep, &kept), D2L_OK, "d2l_nms");
    check(kept == 2 && keep[0] == 1 && keep[1] == 2, "d2l_nms keeps 1 then 2 (got %zu: %zu %zu)", kept, keep[0], keep[1]);
    check_status(d2l_nms(boxes, scores, 4, 1.0f, keep, &kept), D2L_OK, "d2l_nms with threshold 1");
    check(kept == 4 && keep[0] == 1 && keep[1] == 0 && keep[2] == 2 && keep[3] == 3,
          "threshold 1 keeps all, by score, ties by index (got %zu %zu %zu %zu)", keep[0], keep[1], keep[2], keep[3]);
    kept = 9;
    check(d2l_nms(NULL, NULL, 0, 0.5f, NULL, &kept) == D2L_OK && kept == 0, "d2l_nms of no boxes keeps none");
    kept = 9;
    check_status(d2l_nms(boxes, scores, 4, 1.5f, keep, &kept), D2L_ERR_INVALID_ARGUMENT, "d2l_nms with threshold 1.5");
    check_status(d2l_nms(boxes, scores, 4, NAN, keep, &kept), D2L_ERR_INVALID_ARGUMENT, "d2l_nms with a NaN threshold");
    const float inf_scores[4] = {0.8f, INFINITY, 0.5f, 0.5f};
    check_status(d2l_nms(boxes, inf_scores, 4, 0.5f, keep, &kept), D2L_ERR_INVALID_ARGUMENT, "d2l_nms with an infinite score");
    check_status(d2l_nms(boxes, scores, 4, 0.5f, keep, NULL), D2L_ERR_INVALID_ARGUMENT, "d2l_nms with out_kept NULL");
    check(kept == 9, "nothing written on error");
}

static void test_multibox_detection(void) {
    /* The book's 13.4.4 example: four anchors, zero offsets, dog and cat probabilities. */
    const float anchors[16] = {0.1f, 0.08f, 0.52f, 0.92f, 0.08f, 0.2f, 0.56f, 0.95f,
                               0.15f, 0.3f, 0.62f, 0.91f, 0.55f, 0.2f, 0.9f, 0.88f};
    const float offsets[16] = {0};
    const float probs[12] = {0, 0, 0, 0, 0.9f, 0.8f, 0.7f, 0.1f, 0.1f, 0.2f, 0.3f, 0.9f};
    const float expected[24] = {0, 0.9f, 0.1f, 0.08f, 0.52f, 0.92f,  1, 0.9f, 0.55f, 0.2f, 0.9f, 0.88f,
                                -1, 0.8f, 0.08f, 0.2f, 0.56f, 0.95f, -1, 0.7f, 0.15f, 0.3f, 0.62f, 0.91f};
    float out[24];
    check_status(d2l_multibox_detection(probs, offsets, anchors, 3, 4, 0.5f, 0.009999999f, out), D2L_OK,
                 "d2l_multibox_detection on the book's example");
    int same = 1;
    for (int i = 0; i < 24; i++) same &= close_to(out[i], expected[i], 1e-6f);
    check(same, "the book's output: dog 0.9, cat 0.9, then two suppressed rows (got %g %g, %g %g, %g %g, %g %g)",
          out[0], out[1], out[6], out[7], out[12], out[13], out[18], out[19]);
    float low[24];
    check_status(d2l_multibox_detection(probs, offsets, anchors, 3, 4, 0.5f, 0.95f, low), D2L_OK, "pos_threshold 0.95");
    check(low[0] == -1 && close_to(low[1], 0.1f, 1e-6f), "below pos_threshold: class -1, confidence 1 - p (got %g %g)", low[0], low[1]);

    float untouched[24] = {7};
    check_status(d2l_multibox_detection(probs, offsets, anchors, 1, 4, 0.5f, 0.01f, untouched), D2L_ERR_INVALID_ARGUMENT,
                 "d2l_multibox_detection with one class");
    check_status(d2l_multibox_detection(probs, offsets, anchors, 3, 4, -0.1f, 0.01f, untouched), D2L_ERR_INVALID_ARGUMENT,
                 "d2l_multibox_detection with nms_threshold -0.1");
    check(strstr(d2l_last_error(), "nms_threshold") != NULL, "the message names nms_threshold: %s", d2l_last_error());
    check_status(d2l_multibox_detection(probs, NULL, anchors, 3, 4, 0.5f, 0.01f, untouched), D2L_ERR_INVALID_ARGUMENT,
                 "d2l_multibox_detection with offsets NULL");
    check_status(d2l_multibox_detection(probs, offsets, anchors, 3, SIZE_MAX / 3, 0.5f, 0.01f, untouched),
                 D2L_ERR_INVALID_ARGUMENT, "d2l_multibox_detection with counts that overflow");
    check(untouched[0] == 7, "nothing written on error");
}

static void test_detection(void) {
    test_box_iou();
    test_multibox_prior();
    test_nms();
    test_multibox_detection();
}

#endif
