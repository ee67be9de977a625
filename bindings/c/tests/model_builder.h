/*
 * model_builder.h — tiny ONNX models made in memory for test_capi.c: every input passes
 * through an Identity node to an output named "out_<input name>" of the same type, with
 * the dimensions (fixed, named symbolic or unnamed) and metadata a test needs. Written
 * with the protobuf-c code the repository commits (Sources/_D2LONNX) and loaded with
 * d2l_model_load_memory. Header-only (static functions), included once after check.h.
 */
#ifndef D2L_TESTS_MODEL_BUILDER_H
#define D2L_TESTS_MODEL_BUILDER_H

#include "onnx.pb-c.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { built_max_values = 16, built_max_rank = 8, built_max_metadata = 4 };

/** Dimension d of a built value: dims[d] >= 0 is a dim_value; -1 is symbolic, named
 *  params[d] when params and params[d] are not NULL (a dim_param), else neither. */
typedef struct {
    const char *name;
    d2l_dtype dtype;
    size_t rank;
    int64_t dims[built_max_rank];
    const char *params[built_max_rank];
} built_value;

/** Builds and loads the identity model of `count` inputs (at most built_max_values) and
 *  the metadata pairs metadata[2k] = key, metadata[2k + 1] = value (`metadata_count`
 *  pairs, at most built_max_metadata). Returns d2l_model_load_memory's status. */
static d2l_status build_identity_model(const built_value *inputs, size_t count, const char *const *metadata,
                                       size_t metadata_count, d2l_model **out) {
    if (count > built_max_values || metadata_count > built_max_metadata) return D2L_ERR_INTERNAL;
    Onnx__TensorShapeProto__Dimension dim_storage[built_max_values][built_max_rank];
    Onnx__TensorShapeProto__Dimension *dim_pointers[built_max_values][built_max_rank];
    Onnx__TensorShapeProto shapes[built_max_values];
    Onnx__TypeProto__Tensor tensors[built_max_values];
    Onnx__TypeProto types[built_max_values];
    Onnx__ValueInfoProto ins[built_max_values], outs[built_max_values];
    Onnx__ValueInfoProto *in_pointers[built_max_values], *out_pointers[built_max_values];
    Onnx__NodeProto nodes[built_max_values];
    Onnx__NodeProto *node_pointers[built_max_values];
    char out_names[built_max_values][64];
    char *node_inputs[built_max_values], *node_outputs[built_max_values];
    for (size_t i = 0; i < count; i++) {
        const built_value *v = &inputs[i];
        if (v->rank > built_max_rank) return D2L_ERR_INTERNAL;
        for (size_t d = 0; d < v->rank; d++) {
            Onnx__TensorShapeProto__Dimension dim = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT;
            if (v->dims[d] >= 0) {
                dim.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
                dim.dim_value = v->dims[d];
            } else if (v->params[d]) {
                dim.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
                dim.dim_param = (char *)v->params[d];
            }
            dim_storage[i][d] = dim;
            dim_pointers[i][d] = &dim_storage[i][d];
        }
        Onnx__TensorShapeProto shape = ONNX__TENSOR_SHAPE_PROTO__INIT;
        shape.n_dim = v->rank;
        shape.dim = dim_pointers[i];
        shapes[i] = shape;
        Onnx__TypeProto__Tensor tensor = ONNX__TYPE_PROTO__TENSOR__INIT;
        tensor.has_elem_type = 1;
        tensor.elem_type = (int32_t)v->dtype;
        tensor.shape = &shapes[i];
        tensors[i] = tensor;
        Onnx__TypeProto type = ONNX__TYPE_PROTO__INIT;
        type.value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
        type.tensor_type = &tensors[i];
        types[i] = type;
        snprintf(out_names[i], sizeof out_names[i], "out_%s", v->name);
        Onnx__ValueInfoProto in = ONNX__VALUE_INFO_PROTO__INIT, out_info = ONNX__VALUE_INFO_PROTO__INIT;
        in.name = (char *)v->name;
        in.type = &types[i];
        out_info.name = out_names[i];
        out_info.type = &types[i];
        ins[i] = in;
        outs[i] = out_info;
        in_pointers[i] = &ins[i];
        out_pointers[i] = &outs[i];
        node_inputs[i] = (char *)v->name;
        node_outputs[i] = out_names[i];
        Onnx__NodeProto node = ONNX__NODE_PROTO__INIT;
        node.op_type = "Identity";
        node.n_input = 1;
        node.input = &node_inputs[i];
        node.n_output = 1;
        node.output = &node_outputs[i];
        nodes[i] = node;
        node_pointers[i] = &nodes[i];
    }
    Onnx__GraphProto graph = ONNX__GRAPH_PROTO__INIT;
    graph.name = "identity";
    graph.n_node = count;
    graph.node = node_pointers;
    graph.n_input = count;
    graph.input = in_pointers;
    graph.n_output = count;
    graph.output = out_pointers;
    Onnx__OperatorSetIdProto opset = ONNX__OPERATOR_SET_ID_PROTO__INIT;
    opset.domain = "";
    opset.has_version = 1;
    opset.version = 17;
    Onnx__OperatorSetIdProto *opsets[1] = {&opset};
    Onnx__StringStringEntryProto entries[built_max_metadata];
    Onnx__StringStringEntryProto *entry_pointers[built_max_metadata];
    for (size_t k = 0; k < metadata_count; k++) {
        Onnx__StringStringEntryProto e = ONNX__STRING_STRING_ENTRY_PROTO__INIT;
        e.key = (char *)metadata[2 * k];
        e.value = (char *)metadata[2 * k + 1];
        entries[k] = e;
        entry_pointers[k] = &entries[k];
    }
    Onnx__ModelProto model = ONNX__MODEL_PROTO__INIT;
    model.has_ir_version = 1;
    model.ir_version = 8;
    model.n_opset_import = 1;
    model.opset_import = opsets;
    model.producer_name = "test_capi model_builder.h";
    model.graph = &graph;
    model.n_metadata_props = metadata_count;
    model.metadata_props = entry_pointers;
    size_t size = onnx__model_proto__get_packed_size(&model);
    unsigned char *bytes = malloc(size + 1);
    if (!bytes) abort();
    onnx__model_proto__pack(&model, bytes);
    d2l_status status = d2l_model_load_memory(bytes, size, out);
    free(bytes);
    return status;
}

/** The identity model of one float32 input "x" with dims `dims` (rank 4; -1 = symbolic
 *  "batch" for dimension 0, unnamed elsewhere) and, when `input_json` is not NULL, that
 *  d2l.input. */
static d2l_status build_image_model(const int64_t dims[4], const char *input_json, d2l_model **out) {
    built_value x = {"x", D2L_FLOAT32, 4, {dims[0], dims[1], dims[2], dims[3]}, {"batch", NULL, NULL, NULL}};
    const char *metadata[2] = {"d2l.input", input_json};
    return build_identity_model(&x, 1, metadata, input_json ? 1 : 0, out);
}

#endif
