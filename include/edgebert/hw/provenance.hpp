// SPDX-License-Identifier: Apache-2.0
#pragma once
// Where every default of hw_params comes from, as data: `read` entries name a file and line (of
// harvard-acc/EdgeBERT at 1249ed7, hw/cmod/..., or of NVMExplorer's CSVs in ../shared/data/nvmexplorer/) or
// a figure, `derived` entries give the arithmetic, `assumed` entries the reason. docs/hw.md prints this
// table (`edgebert energy --provenance`), and a test checks that no `read` entry lacks a location.

#include <string>
#include <vector>

namespace edgebert::hw {

enum class source_kind { read, derived, assumed };

inline const char* source_kind_name(source_kind k) noexcept {
    return k == source_kind::read ? "read" : k == source_kind::derived ? "derived" : "assumed";
}

struct provenance_entry {
    std::string key;    ///< the hw_params JSON key ("datapath.n")
    std::string value;  ///< the default, as text
    source_kind kind;
    std::string source; ///< file:line (read), the derivation (derived) or the reason (assumed)
};

inline const std::vector<provenance_entry>& provenance() {
    using k = source_kind;
    static const std::vector<provenance_entry> table{
        {"datapath.n", "16", k::read, "hw/cmod/include/Spec.h:21 kVectorSize = VECTOR_SIZE; hw/cmod/TopAccel/Makefile:21 -DVECTOR_SIZE=16"},
        {"datapath.overlap_load", "false (2n+1 cycles per tile)", k::read,
         "hw/cmod/Datapath_Top/Datapath_Top.h:82-87 (n pops, one wait each), 99-103 (n pushes), 119 (one more wait)"},
        {"datapath.zero_gating", "either_vector", k::read,
         "hw/cmod/Datapath_Top/Datapath_Top.h:154-161: masks of both operand vectors, ProductSum only if (mask1 && mask0)"},
        {"datapath.weight_fetch", "sequential", k::read,
         "hw/cmod/TopAccel/testbench.cpp:203-307: input and mask DMA reads, each waited for (IRQ), then the PU computation"},
        {"datapath.axi_data_bits", "64", k::read, "hw/cmod/include/AxiSpec.h:24 dataWidth = 64"},
        {"datapath.axi_burst_beats", "256", k::read, "hw/cmod/include/AxiSpec.h:29 maxBurstSize = 256"},
        {"datapath.skip_zero_work", "false", k::read, "hw/cmod/Datapath_Top/Datapath_Top.h:99-103: the compute loop runs n cycles whatever the masks"},
        {"datapath.word_bits", "8", k::read, "hw/cmod/include/Spec.h:87 kAdpfloatWordWidth = 8"},
        {"datapath.accum_bits", "16", k::read, "hw/cmod/include/Spec.h:26 kAccumWordWidth = 16"},
        {"buffers.decoders", "2", k::read, "hw/cmod/include/Spec.h:132 base_input[2]; figure images/edgebert_accel_system.png (two decoders)"},
        {"buffers.entries_per_bank", "4096", k::read, "hw/cmod/include/Spec.h:35 Entries = 4096"},
        {"buffers.aux_entries_per_bank", "256", k::read,
         "hw/cmod/include/Spec.h:37-38 AuxEntries = 256, AuxCapacity = N*AuxEntries: 4 KiB at n = 16, 8 KiB at n = 32; "
         "the figure's 32 KB aux buffer is not what the code builds"},
        {"sfu.softmax", "ii 3, 9 states/vector, 1/row", k::derived,
         "states from the FSM enum hw/cmod/SMax/SMax.h:54-56 (9 per vector pass, NEXT per row) x II from the HLS pragma at "
         "SMax.h:430 (hls_pipeline_init_interval 3); assumes one FSM state per II, which HLS scheduling need not meet"},
        {"sfu.layer_norm", "ii 3, 9/vector, 2/row", k::derived, "FSM hw/cmod/LayerNorm/LayerNorm.h:56-58 x II LayerNorm.h:457 (3)"},
        {"sfu.elem_add", "ii 1, 6/vector, 1/row", k::derived, "FSM hw/cmod/ElemAdd/ElemAdd.h:48-50 x II ElemAdd.h:290 (1)"},
        {"sfu.entropy", "ii 4, 4/vector, 2/row", k::derived, "FSM hw/cmod/Enpy/Enpy.h:49-51 x II Enpy.h:322 (4)"},
        {"sfu.dvfs_unit_cycles", "12", k::derived,
         "3 states (SCALE_ENPY, PUSH_VF, NEXT; hw/cmod/Dvfs/Dvfs.h:83-85, transitions 370-383) x II 4 (Dvfs.h:397)"},
        {"dvfs.controller", "entropy_lut", k::read,
         "hw/cmod/Dvfs/Dvfs.h:251-342: 16 fixed bins of the scaled entropy, each pushing one LDO and one DCO code"},
        {"dvfs.enpy_scale", "1", k::assumed,
         "software-set divisor (hw/cmod/include/Spec.h:175, applied at Dvfs.h:242); its value in the paper's runs is not public"},
        {"entropy fixed point", "16 bit, 10 fraction bits", k::read, "hw/cmod/include/Spec.h:69 kActWordWidth = 16, :75 kActNumFrac = 10"},
        {"entropy_lut bin programming", "ideal point for the bin's latest predicted exit", k::assumed,
         "the codes are software-written registers (Control.h:415-489); what the authors programmed is not public"},
        {"dvfs.between_sentences", "stay", k::read,
         "hw/cmod/Control/Control.h:262-263 sets the DCO/LDO codes only at reset; 297-306 change them only when the DVFS unit pushes"},
        {"initial point", "nominal", k::assumed, "what V/f the reset codes (Control.h:262-263: DCO 63, LDO 0) produce is not documented"},
        {"dvfs.choice", "lowest_voltage", k::assumed, "EdgeBERT's stated rule (reference/edgebert.md §4.3); lowest_energy is the alternative"},
        {"dvfs.sentence_period_ms", "0 (back to back)", k::assumed, "no inference rate is given"},
        {"dvfs.ldo_input_v", "0.9", k::assumed, "an LDO needs its input above the highest output (0.8 V) by a dropout of ~0.1 V"},
        {"operating_points", "0.50-0.80 V, 404.8-1000 MHz", k::derived,
         "alpha-power law f ~ (V - 0.30)^1.5 / V scaled to 1 GHz at 0.80 V; V_th, alpha, the range and 1 GHz are assumed"},
        {"dvfs.ldo_settle_us", "1", k::assumed, "fast integrated LDOs settle within about a microsecond"},
        {"dvfs.adpll_relock_us", "5", k::assumed, "an ADPLL relocks in a few microseconds"},
        {"dvfs.ldo_decap_nf", "10", k::assumed, "on-die decoupling of a few-mm2 accelerator"},
        {"dvfs.adpll_power_mw", "1", k::assumed, "ADPLL power of about a milliwatt"},
        {"power.c_eff_mac_pf", "0.125", k::assumed, "0.08 pJ per 8-bit AdaptivFloat MAC at 0.8 V (12 nm)"},
        {"power.c_eff_sfu_op_pf", "2.5", k::assumed, "1.6 pJ per 16-lane SFU vector operation at 0.8 V"},
        {"power.c_eff_cycle_pf", "4.7", k::assumed, "3 pJ per cycle of clock tree, control and registers at 0.8 V"},
        {"power.leakage_mw_per_v", "2.5", k::assumed, "2 mW logic leakage at 0.8 V for about 1 mm2 of 12 nm logic"},
        {"memory.sram", "0.0176/0.266 pJ/bit, 4.684 ns, 28.17 mW/MiB, 0.6545 mm2/MiB", k::read,
         "../shared/data/nvmexplorer/SRAM.csv:317 (SRAM_best_case.cell, 22 nm, 2 MB, 64-bit word, ReadDynamicEnergy): "
         "1.128 / 17.016 pJ per access, 56.345 mW, 1.309 mm2; per bit and per MiB derived (MB taken as MiB)"},
        {"memory.reram", "0.0175/1.31 pJ/bit, 13.737 ns, 0.658 mW/MiB, 0.2213 mm2/MiB", k::read,
         "../shared/data/nvmexplorer/RRAM.csv:197 (RRAM_best_case.cell, 22 nm, 2 MB, 64-bit word, ReadDynamicEnergy): "
         "1.118 / 83.81 pJ per access, 1.316 mW, 0.4425 mm2"},
        {"memory.buffer", "the SRAM row's per-bit and per-MiB figures, on the DVFS rail", k::derived,
         "SRAM.csv:317 scaled to 2 x (64 + 8) KiB + 4 KiB = 148 KiB (Spec.h:35-38 at n = 16); a smaller array costs less per "
         "bit, so this is an upper bound; on the rail because the figure puts the buffers inside the LDO's domain"},
        {"memory.sram.capacity_mib", "8", k::assumed, "room for a 50 %-sparse encoder (4.4 MB) and task parts; not in the paper"},
        {"memory.reram.capacity_mib", "2", k::read, "figure images/edgebert_accel_system.png: 2 MB ReRAM buffer"},
        {"memory node", "22 nm arrays in a 12 nm design", k::assumed, "NVMExplorer's published rows are 22 nm; no scaling applied"},
        {"memory.charge_backing_leakage", "false", k::assumed,
         "the SRAM and ReRAM sit on the SoC side of the AXI bus and hold their contents; their standby power is reported apart"},
        {"memory.backbone_in_reram", "false", k::assumed, "EdgeBERT fine-tunes the encoder per task; true for adapter-ALBERT"},
    };
    return table;
}

}  // namespace edgebert::hw
