"""Word lists for the synthetic corpus (bench/corpus.py): research fields, templates, names.

Plain data only. Every string here is GB18030-encodable (no emoji, no rare symbols).
"""
from __future__ import annotations

# Per research field: Chinese concepts (T), Latin terms (L), application objects (O),
# measures (M), and English words for Latin reference titles (E = terms, EO = objects).
FIELDS: dict[str, dict[str, list[str]]] = {
    "ai": {
        "T": ["深度学习", "卷积神经网络", "迁移学习", "小样本学习", "自监督学习", "目标检测",
              "语义分割", "知识蒸馏", "模型剪枝", "注意力机制", "图神经网络", "多模态融合",
              "对比学习", "元学习", "联邦学习", "生成对抗网络", "模型量化", "数据增强",
              "特征金字塔", "强化学习", "边缘计算", "可解释性分析"],
        "L": ["ResNet", "YOLOv5", "BERT", "Transformer", "MobileNetV3", "EfficientNet-B0",
              "Grad-CAM", "F1-Score", "mAP", "LiDAR", "U-Net", "ViT", "GPT-4", "LoRA",
              "ImageNet", "COCO", "Faster R-CNN", "CLIP", "TensorRT", "ONNX"],
        "O": ["图像识别", "医学影像分析", "自动驾驶", "工业缺陷检测", "遥感图像解译",
              "人脸识别", "视频监控", "交通标志识别", "行人检测", "文本分类", "智能问答",
              "机器人抓取", "农作物病害识别"],
        "M": ["准确率", "召回率", "推理速度", "参数量", "平均精度", "鲁棒性", "泛化能力",
              "能耗"],
        "E": ["deep learning", "object detection", "transfer learning", "few-shot learning",
              "vision transformers", "knowledge distillation", "self-supervised learning",
              "neural architecture search", "model compression", "multimodal fusion"],
        "EO": ["image classification", "autonomous driving", "medical imaging",
               "remote sensing", "defect inspection", "video surveillance", "edge devices"],
    },
    "medicine": {
        "T": ["免疫治疗", "靶向治疗", "基因编辑", "精准医学", "液体活检", "肠道菌群",
              "慢病管理", "早期筛查", "联合用药", "细胞治疗", "生物标志物", "康复干预",
              "循证医学", "药物不良反应", "风险预测模型", "真实世界研究", "中西医结合",
              "营养干预"],
        "L": ["CRISPR-Cas9", "PD-L1", "HbA1c", "CAR-T", "mRNA", "SARS-CoV-2", "PET-CT",
              "MRI", "IL-6", "HER2", "EGFR-TKI", "BMI", "LDL-C", "ctDNA", "GLP-1", "NSCLC",
              "ICU", "HPV"],
        "O": ["非小细胞肺癌", "2型糖尿病", "冠心病", "乳腺癌", "阿尔茨海默病", "脓毒症",
              "慢性肾病", "高血压", "结直肠癌", "抑郁症", "骨质疏松", "脑卒中"],
        "M": ["总生存期", "无进展生存期", "客观缓解率", "灵敏度", "特异度", "死亡率",
              "复发率", "生活质量评分"],
        "E": ["immunotherapy", "gene editing", "liquid biopsy", "precision medicine",
              "gut microbiota", "risk prediction", "cell therapy", "biomarkers"],
        "EO": ["lung cancer", "type 2 diabetes", "heart failure", "breast cancer",
               "sepsis", "chronic kidney disease", "stroke"],
    },
    "materials": {
        "T": ["钙钛矿材料", "二维材料", "金属有机框架", "锂离子电池", "固态电解质", "催化剂",
              "纳米复合材料", "高熵合金", "柔性电子", "光催化", "表面改性", "增材制造",
              "界面工程", "电化学储能", "热电材料", "相变储能"],
        "L": ["MXene", "TiO2", "LiFePO4", "NCM811", "XRD", "SEM", "DFT", "ZIF-8", "CsPbI3",
              "Li-S", "MOF-5", "XPS", "TEM", "EIS", "BET"],
        "O": ["太阳能电池", "储能器件", "水分解制氢", "二氧化碳还原", "柔性传感器",
              "航空发动机叶片", "电磁屏蔽", "海水淡化", "锂金属负极", "超级电容器"],
        "M": ["能量密度", "循环稳定性", "光电转换效率", "比表面积", "导电率", "屈服强度",
              "库伦效率", "热导率"],
        "E": ["perovskite solar cells", "solid-state electrolytes", "metal-organic frameworks",
              "high-entropy alloys", "photocatalysis", "additive manufacturing",
              "two-dimensional materials"],
        "EO": ["energy storage", "hydrogen evolution", "flexible electronics", "CO2 reduction",
               "lithium batteries", "water treatment"],
    },
    "agriculture": {
        "T": ["智慧农业", "精准施肥", "作物育种", "土壤改良", "病虫害防治", "节水灌溉",
              "遥感监测", "分子标记辅助选择", "秸秆还田", "设施农业", "种质资源",
              "农业物联网", "绿色防控", "耕地保护", "产量预测"],
        "L": ["NDVI", "QTL", "GWAS", "SNP", "UAV", "Sentinel-2", "N2O", "CO2", "DSSAT",
              "APSIM", "GIS", "RTK", "LoRaWAN"],
        "O": ["水稻", "冬小麦", "玉米", "大豆", "设施蔬菜", "茶园", "果园", "盐碱地",
              "黑土区", "丘陵山区", "红茶发酵"],
        "M": ["产量", "氮肥利用率", "水分利用效率", "土壤有机质", "发病率", "品质指标",
              "经济效益", "碳排放强度"],
        "E": ["precision agriculture", "crop breeding", "soil health", "yield prediction",
              "remote sensing", "smart irrigation", "pest management"],
        "EO": ["rice", "winter wheat", "maize", "smallholder farms", "saline soils",
               "tea plantations"],
    },
    "environment": {
        "T": ["大气污染治理", "碳达峰", "碳中和", "水环境修复", "生态补偿", "固废资源化",
              "臭氧污染", "气候变化适应", "生物多样性保护", "土壤重金属污染", "污水处理",
              "环境监测", "源解析", "生态风险评估", "海洋塑料污染"],
        "L": ["PM2.5", "PM10", "SO2", "NOx", "VOCs", "AQI", "WRF-Chem", "MODIS", "CMIP6",
              "CMAQ", "PMF", "GEOS-Chem", "COD", "IPCC"],
        "O": ["京津冀地区", "长江流域", "城市群", "工业园区", "近岸海域", "湖泊湿地",
              "矿区", "农村地区", "黄河流域", "青藏高原"],
        "M": ["浓度", "去除率", "排放强度", "暴露水平", "健康风险", "碳汇能力",
              "生态系统服务价值", "达标率"],
        "E": ["air pollution", "carbon neutrality", "climate adaptation", "source apportionment",
              "ecological risk", "wastewater treatment", "microplastics"],
        "EO": ["urban agglomerations", "river basins", "coastal waters", "industrial parks",
               "wetlands", "megacities"],
    },
    "economics": {
        "T": ["数字经济", "绿色金融", "产业结构升级", "乡村振兴", "普惠金融", "区域协调发展",
              "营商环境", "创新驱动", "供应链韧性", "人口老龄化", "共同富裕", "碳交易市场",
              "平台经济", "财政转移支付", "全要素生产率"],
        "L": ["GDP", "CPI", "DID", "PSM", "VAR", "GARCH", "ESG", "FDI", "TFP", "DSGE",
              "SVAR", "M2", "CGE"],
        "O": ["制造业企业", "中小企业", "县域经济", "资本市场", "跨境电商", "农村家庭",
              "商业银行", "地方政府", "高新技术产业", "服务业"],
        "M": ["增长率", "弹性系数", "融资约束", "就业水平", "收入差距", "投资效率",
              "风险溢价", "生产效率"],
        "E": ["digital economy", "green finance", "industrial upgrading", "financial inclusion",
              "supply chain resilience", "carbon markets", "total factor productivity"],
        "EO": ["manufacturing firms", "rural households", "emerging markets", "local governments",
               "commercial banks", "SMEs"],
    },
}

# Problems and generic nouns shared by all fields.
PROBLEMS = ["过拟合", "样本不均衡", "泛化能力不足", "可解释性不足", "成本过高", "稳定性差",
            "数据孤岛", "标准不统一", "长期随访缺失", "异质性较高", "评价体系不完善",
            "样本量偏小"]
STUDIES = ["随机对照试验", "队列研究", "横断面调查", "面板数据分析", "对比实验", "仿真研究",
           "田间试验", "案例研究", "Meta分析", "消融实验"]

# Rare characters for made-up names that jieba's dictionary does not know.
SURNAMES = "禤亓逄郗昝仉笪宓蔺钭庹阙佴厍隗帅羿聂"
GIVEN = "彧翀琤珩湉芃昶旻婳玥祎晞翃骞暄堃珝曌玗翯淏昉"
PLACE_SUFFIX = ["县", "镇", "乡", "市"]
PLACE_CHARS = "邗郾郯邳沭溧睢濉泗颍涡渑汜淇浚滑罍溆隰芮"

LATIN_AUTHORS = ["Smith", "Johnson", "Patel", "Chen", "Liu", "Wang", "Zhang", "Zhou", "Lee",
                 "Kim", "Garcia", "Brown", "Nguyen", "Tanaka", "Rossi", "Kumar", "Martin"]
JOURNALS = ["计算机工程与应用", "中华医学杂志", "农业工程学报", "环境科学学报", "经济研究",
            "材料导报", "自动化学报", "中国科学：技术科学", "地理学报", "管理世界"]

# Sentence templates.  Slots: {T} {T2} term, {L} {L2} latin, {O} object, {M} {M2} measure,
# {P} percent number, {N} count, {Y} year, {SEC} section-like string, {NAME} person,
# {PLACE} place, {PROB} problem, {STUDY} study design.
SENTENCES = [
    "{T}是{O}领域的重要研究方向，其核心目标在于提升{M}并降低实施成本",
    "研究表明，{L}在{O}任务中的{M}可达{P}%",
    "{NAME}等在{PLACE}开展的{STUDY}纳入{N}个样本，结果显示{T}可使{M}提高{P}%",
    "如第{SEC}节所述，{T}与{T2}的结合能够显著改善{O}的{M}",
    "近年来，基于{L}的方法在{O}中得到广泛应用",
    "然而，{T}仍面临{PROB}等挑战，尤其是在{O}场景中",
    "此外，{L}与{L2}的联合使用进一步降低了{M}的波动",
    "自{Y}年以来，{T}相关文献数量年均增长{P}%",
    "{T}（{L}）通过引入{T2}机制，有效缓解了{O}中的{PROB}问题",
    "实验结果表明，该方法在{N}个公开数据集上的{M}均优于传统{T2}方法",
    "值得注意的是，不同研究对{M}的定义并不一致，这给结果的横向比较带来了困难",
    "{NAME}团队提出的改进方案将{L}引入{O}，在保持{M}的同时显著提升了{M2}",
    "从方法学角度看，{T}的关键在于如何平衡{M}与{M2}之间的关系",
    "多中心{STUDY}进一步证实了{T}在{O}中的有效性与安全性",
    "在{PLACE}的示范应用中，{T}使{O}的{M}由{P}%提升至{P2}%",
    "现有证据提示，{PROB}是制约{T}推广应用的主要因素之一",
    "与{T2}相比，{T}对{O}的适应性更强，但对数据质量的要求也更高",
    "部分学者采用{L}对{O}进行建模分析，发现{M}与{M2}之间存在显著相关性",
    "第{SEC}节的分析框架同样适用于{O}，并可为后续研究提供参考",
    "综合来看，{T}在{O}中的研究已从概念验证阶段逐步走向规模化应用",
    "未来需要在{T}、{T2}与{L}的协同优化方面开展更多系统性研究",
    "针对{PROB}问题，研究者提出了基于{T2}的多种改进策略",
    "{L}版本{V}在{O}基准测试中取得了{P}%的{M}",
    "统计结果显示，{Y}年至{Y2}年间{O}的{M}累计变化约{P}%",
]
# Short clauses appended after a comma to make longer sentences.
CLAUSES = [
    "这一结论在多项独立研究中得到验证",
    "其作用机制仍有待进一步阐明",
    "但样本代表性仍需谨慎评估",
    "为{O}的实践提供了新的思路",
    "并显著降低了{M}的不确定性",
    "相关成果已在{PLACE}等地推广应用",
    "该趋势在{L}相关研究中尤为明显",
]
# Chapter titles between 引言 and 结论与展望.
CHAPTER_TITLES = ["技术发展与方法创新", "关键技术与研究方法", "应用场景与案例分析",
                  "性能评估与比较", "真实世界证据与挑战", "机制分析与理论基础",
                  "可解释性与透明度", "数据资源与评价体系", "未来发展方向", "标准化与监管",
                  "政策环境与产业实践", "安全性与伦理问题"]
INTRO_SECTIONS = ["{T}发展概述", "{T}在{O}中的作用", "当前研究的挑战与机遇", "本文的结构安排"]
CONCLUSION_SECTIONS = ["{T}研究的主要成就", "未来研究方向与潜在挑战", "对{O}实践的启示"]
SECTION_TITLES = ["{T}的优化与改进", "{T}在{O}中的实践", "{L}的应用", "{O}中的{T}",
                  "{T}与{T2}的融合方法", "{M}的评价方法", "{PROB}问题及其对策",
                  "{T}的最新进展", "基于{L}的{T}", "{O}场景下的{M}分析",
                  "{T}的关键技术（如{L}）", "{STUDY}证据综述"]
TOPICS = ["{T}在{O}中的研究进展", "{T}在{O}领域的最新进展", "{O}中{T}的应用现状与展望",
          "基于{T}的{O}研究综述", "{T}与{T2}在{O}中的应用综述"]
THINK_TEXTS = ["好的，用户让我撰写第{CH}章的内容，我需要先梳理{T}的研究现状",
               "首先明确本章结构，再补充{L}相关的文献证据"]

# Reference-pool title templates (Chinese and Latin).  {E}/{EO} are English words.
REF_TITLES = [
    "基于{T}的{O}{M}预测研究",
    "{O}中{T}的应用与展望",
    "{L}在{O}中的应用：{NAME}团队最新成果",
    "论文选题灵感：“{T}”研究方向",
    "《{J}》{Y}年第{K}期已全文上网",
    "【{T}基础】一篇入门{M}评价指标（{O}篇）",
    "{NAME}，{NAME2}：基于{L}模型在{O}中的预测应用",
    "{T}与{T2}的比较研究——以{PLACE}为例",
    "{Y}{T}新书-《{T}与{O}》免费分享",
    "{O}深度研究：{T}扩产在即，相关需求有望爆发",
    "{L}-based {E} for {EO}: a systematic review",
    "A survey of {E} in {EO}",
    "Towards robust {E} with {L}",
    "{E} and {EO}: evidence from {N} studies",
    "{T}研究热点与前沿：基于{L}的文献计量分析",
    "{PLACE}{O}{T}示范项目评估报告",
]
